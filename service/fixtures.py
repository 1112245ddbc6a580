"""`fixtures/`: every event and project of the seed article, one JSON file each."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixture_files(root: Path = FIXTURES) -> Iterator[tuple[str, Path]]:
    for collection in ("events", "projects"):
        for path in sorted((root / collection).glob("*.json")):
            yield collection, path


def read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(path.read_bytes())
    return data
