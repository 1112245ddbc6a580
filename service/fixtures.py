"""Loading `fixtures/`: every event and project of the seed article, one JSON file each.

Loading is idempotent: a record equal to what is stored is "unchanged" and makes no new
version, so loading twice creates nothing.
"""

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from rich.progress import Progress

from service.auth.principal import Principal, Role
from service.records.repository import Repository

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
LOADER = Principal("fixtures", Role.ADMIN)


def fixture_files(root: Path = FIXTURES) -> Iterator[tuple[str, Path]]:
    for collection in ("events", "projects"):
        for path in sorted((root / collection).glob("*.json")):
            yield collection, path


def read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(path.read_bytes())
    return data


async def load(
    repositories: dict[str, Repository], root: Path = FIXTURES, show_progress: bool = True
) -> Counter[str]:
    """Create or replace every fixture; answers how many were created, updated, unchanged."""
    files = list(fixture_files(root))
    outcome: Counter[str] = Counter()
    with Progress(disable=not show_progress, transient=False) as progress:
        task = progress.add_task("Loading fixtures", total=len(files))
        for collection, path in files:
            repository = repositories[collection]
            data = read(path)
            written = await repository.put(data["id"], repository.validate(data), LOADER)
            outcome[written.status] += 1
            progress.advance(task)
    return outcome
