"""Role by route: every operation of the published contract, called by every kind of caller.

The operations come from `openapi.yaml`; each declares who may call it (`x-access`). With
anonymous reads switched off (so the reader role matters), each case calls the operation on a
record partner A owns and checks the status the roles promise: anonymous 401, a role that may
not 403 (and nothing changes), otherwise success. For bulk, the item's own status counts.
"""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import ADMIN, AppClient
from tests.factories import event, issue_key, project, unique_id

ROOT = Path(__file__).resolve().parent.parent
SPEC = yaml.safe_load((ROOT / "openapi.yaml").read_text())


def _success(operation: dict[str, Any]) -> int:
    """The documented success status (200 where several are, as for PUT on a record)."""
    codes = sorted(int(c) for c in operation["responses"] if str(c).startswith("2"))
    return 200 if 200 in codes else codes[0]


#: Values for required parameters whose names do not say what a valid value is.
REQUIRED = {"by": "country", "group_by": "year", "code": "CHN"}


def _required_query(operation: dict[str, Any]) -> dict[str, str]:
    params = operation.get("parameters", [])
    return {
        p["name"]: REQUIRED[p["name"]] for p in params if p["in"] == "query" and p.get("required")
    }


OPERATIONS = [
    (method.upper(), path, op["operationId"], op["x-access"], _success(op))
    for path, item in SPEC["paths"].items()
    for method, op in item.items()
]
QUERY = {
    op["operationId"]: _required_query(op)
    for item in SPEC["paths"].values()
    for op in item.values()
}
ROLES = ("anonymous", "reader", "partner-a", "partner-b", "editor", "admin")
MAKE = {"events": event, "projects": project}


def expected(access: str, role: str, on_a_record: bool, ok: int) -> int:
    if access == "public":
        return ok
    if role == "anonymous":
        return 401
    if access == "read":
        return ok
    if access == "admin":
        return ok if role == "admin" else 403
    # write
    if role == "reader" or (role == "partner-b" and on_a_record):
        return 403
    return ok


@pytest.fixture(scope="module")
async def matrix(app_client: AppClient) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any]]]:
    async with app_client(anonymous_reads=False) as client:
        headers: dict[str, Any] = {"anonymous": {}, "admin": ADMIN}
        for name, role in [
            ("reader", "reader"),
            ("partner-a", "partner"),
            ("partner-b", "partner"),
            ("editor", "editor"),
        ]:
            headers[name] = await issue_key(client, name, role)
        yield client, headers


def test_every_operation_declares_its_access():
    assert {o[3] for o in OPERATIONS} == {"public", "read", "write", "admin"}
    assert len(OPERATIONS) >= 25


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "operation_id", "access", "ok"), OPERATIONS, ids=[o[2] for o in OPERATIONS]
)
async def test_role_may_or_may_not_call_the_operation(
    matrix, method, path, operation_id, access, ok, role
):
    client, headers = matrix
    collection = path.split("/")[2] if path.startswith("/v1/") else ""
    url, body = path, None
    on_a_record = "{record_id}" in path or path.endswith("/bulk")
    record_id = None
    if collection in MAKE:
        record_id = unique_id("owned-by-a")
        r = await client.put(
            f"/v1/{collection}/{record_id}", json=MAKE[collection](), headers=headers["partner-a"]
        )
        assert r.status_code == 201
        url = url.replace("{record_id}", record_id).replace("{version}", "1")
        if method == "PUT":
            body = MAKE[collection](title="Replaced")
        elif method == "PATCH":
            body = {"summary": "Patched"}
        elif operation_id.startswith("create_"):
            body = MAKE[collection](title=f"Created {unique_id()}")
        elif path.endswith("/bulk"):
            body = {"records": [{"id": record_id, **MAKE[collection](title="Bulk")}]}
    elif operation_id == "create_key":
        body = {"name": unique_id("key"), "role": "reader"}
    elif operation_id in ("revoke_key", "rotate_key"):
        name = unique_id("key")
        await issue_key(client, name, "reader")
        url = path.replace("{name}", name)

    url = url.replace("{code}", REQUIRED["code"])
    r = await client.request(
        method, url, json=body, headers=headers[role], params=QUERY[operation_id]
    )
    status = r.status_code
    if path.endswith("/bulk") and status == 200:
        item = r.json()["results"][0]
        status = item["error"]["status"] if item["status"] == "error" else 200
    assert status == expected(access, role, on_a_record, ok), r.text
    if status in (401, 403):
        if r.status_code == status:
            assert r.headers["content-type"] == "application/problem+json"
        if status == 401:
            assert r.headers["www-authenticate"].startswith("Bearer")
        if record_id:  # a refused write changed nothing
            after = await client.get(f"/v1/{collection}/{record_id}", headers=ADMIN)
            assert after.status_code == 200 and after.json()["version"] == 1
