"""A client generated from `openapi.yaml` by openapi-python-client works against the running
service: typed pages, search with two countries, paging with the cursor, and problems.

The client is generated into a temporary directory at test time, so it is always the client
of the committed contract."""

import importlib
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from service.problems import TYPE_BASE
from tests.conftest import ADMIN, ADMIN_SECRET, fixture_puts
from tests.dbserver import ROOT
from tests.service_process import ServiceProcess

PACKAGE = "srt_generated_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    where = tmp_path_factory.mktemp("client")
    config = where / "config.yaml"
    config.write_text("post_hooks: []\n")
    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "openapi-python-client"),
            "generate",
            "--path",
            str(ROOT / "openapi.yaml"),
            "--meta",
            "none",
            "--config",
            str(config),
            "--output-path",
            str(where / PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Warning" not in run.stdout, run.stdout
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))
        for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def service(database_uri: str) -> Iterator[ServiceProcess]:
    process = ServiceProcess(database_uri, f"client_{uuid.uuid4().hex[:8]}")
    process.start()
    try:
        with httpx.Client(base_url=process.url, headers=ADMIN) as http:
            for path, body in fixture_puts():
                assert http.put(path, json=body).status_code == 201
        yield process
    finally:
        process.stop()


def part(package: ModuleType, name: str) -> Any:
    return importlib.import_module(f"{package.__name__}.{name}")


@pytest.fixture
def client(generated: ModuleType, service: ServiceProcess) -> Iterator[Any]:
    made = part(generated, "client").AuthenticatedClient(base_url=service.url, token=ADMIN_SECRET)
    with made as opened:
        yield opened


def test_a_list_is_a_typed_page(generated, client):
    list_events = part(generated, "api.events.list_events")
    by_id = part(generated, "models").ListEventsSort("id")
    page = list_events.sync(client=client, limit=3, sort=by_id)
    assert type(page).__name__ == "EventPage"
    assert len(page.data) == 3 and page.total == sum("/events/" in p for p, _ in fixture_puts())
    assert [e.id for e in page.data] == sorted(e.id for e in page.data)
    assert page.data[0].version == 1 and page.data[0].title


def test_the_cursor_walks_every_record_once(generated, client):
    list_projects = part(generated, "api.projects.list_projects")
    seen: list[str] = []
    cursor = part(generated, "types").UNSET
    title = part(generated, "models").ListProjectsFieldsItem("title")
    while True:
        page = list_projects.sync(client=client, limit=7, cursor=cursor, fields=[title])
        seen += [p.id for p in page.data]
        if page.next_ is None:
            break
        cursor = page.next_
    expected = sorted(p.rsplit("/", 1)[1] for p, _ in fixture_puts() if "/projects/" in p)
    assert sorted(seen) == expected


def test_search_with_two_countries(generated, client, service):
    list_projects = part(generated, "api.projects.list_projects")
    CountryCode = part(generated, "models").CountryCode
    page = list_projects.sync(
        client=client, q="cooperation", country=[CountryCode("RUS"), CountryCode("ISR")]
    )
    assert type(page).__name__ == "ProjectPage", page
    comma = httpx.get(
        f"{service.url}/v1/projects", params={"q": "cooperation", "country": "RUS,ISR"}
    ).json()
    assert [p.id for p in page.data] == [p["id"] for p in comma["data"]]
    codes = {c for p in page.data for c in p.country_codes}
    assert {"RUS", "ISR"} <= codes


def test_a_422_is_a_typed_problem(generated, client):
    list_events = part(generated, "api.events.list_events")
    problem = list_events.sync(client=client, limit=0)
    assert type(problem).__name__ == "Problem"
    assert problem.status == 422 and problem.type_ == TYPE_BASE + "validation-error"
    assert [e.additional_properties for e in problem.errors] == [
        {
            "parameter": "limit",
            "in": "query",
            "detail": "Input should be greater than or equal to 1",
        }
    ]


def test_public_operations_need_no_key(generated, service):
    get_vocabularies = part(generated, "api.vocabularies.get_vocabularies")
    with part(generated, "client").Client(base_url=service.url) as anonymous:
        vocab = get_vocabularies.sync(client=anonymous)
    assert "RUS" in {c.code for c in vocab.countries} and vocab.event_kinds
