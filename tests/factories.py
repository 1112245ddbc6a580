"""Small factories for valid records; tests override only what they are about."""

import uuid
from typing import Any

SOURCE = {"url": "https://example.org/article", "title": "An article", "publisher": "Example"}


def unique_id(prefix: str = "test") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def event(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "title": "Belt and Road Forum for International Cooperation",
        "kind": "forum",
        "start": {"value": "2017-05-14", "text": "14-15 May 2017"},
        "countries": [{"code": "CHN", "role": "host"}],
        "sectors": ["policy"],
        "sources": [SOURCE],
    }
    record.update(overrides)
    return record


def project(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "title": "Fibre-optic backbone",
        "kind": "cable",
        "status": "completed",
        "dates": {"announced": {"value": "2016"}},
        "countries": [{"code": "PAK", "role": "host"}, {"code": "CHN", "role": "financier"}],
        "sectors": ["cables"],
        "funding": [
            {"amount": 44_000_000, "currency": "USD", "kind": "loan", "text": "$44 million"}
        ],
        "sources": [SOURCE],
    }
    record.update(overrides)
    return record


async def issue_key(client: Any, name: str, role: str) -> dict[str, str]:
    """Issue a key through the keys API (as the bootstrap admin); returns its auth headers."""
    from tests.conftest import ADMIN

    r = await client.post("/v1/keys", json={"name": name, "role": role}, headers=ADMIN)
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['secret']}"}
