"""The published contracts: `openapi.yaml` and `schemas/*.schema.json`, generated from the code.

`python -m service contracts write` regenerates them; the test suite checks that the committed
files equal what the code generates, so the contract can never drift from the service.
"""

import json
from pathlib import Path
from typing import Any

import yaml

from service.main import create_app
from service.records.model import Envelope
from service.settings import Settings
from service.wiring import RESOURCES

ROOT = Path(__file__).resolve().parent.parent


def openapi_document() -> dict[str, Any]:
    return create_app(Settings(cursor_secret="contract")).openapi()  # noqa: S106


def openapi_yaml() -> str:
    return yaml.safe_dump(openapi_document(), sort_keys=False, allow_unicode=True, width=100)


def record_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema of each record type as written, with the envelope as read-only properties."""
    out = {}
    envelope = Envelope.model_json_schema()
    for resource in RESOURCES:
        schema = resource.fields_model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://silkroadtracker.dev/schemas/{resource.singular}.schema.json"
        schema["title"] = resource.singular.capitalize()
        for name, prop in envelope["properties"].items():
            schema["properties"][name] = {**prop, "readOnly": True}
        out[f"{resource.singular}.schema.json"] = schema
    return out


def expected_files() -> dict[Path, str]:
    files = {ROOT / "openapi.yaml": openapi_yaml()}
    for name, schema in record_schemas().items():
        files[ROOT / "schemas" / name] = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    return files


def write() -> list[Path]:
    changed = []
    for path, text in expected_files().items():
        if not path.exists() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            changed.append(path)
    return changed
