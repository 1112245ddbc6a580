"""The explorer (`/`): served with its own assets under a strict CSP, and, in headless
Chromium driven by Selenium, a person can search, filter, chart, read a record and curate it
against a running service on the real database with the fixtures loaded."""

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN, ADMIN_SECRET
from tests.dbserver import ROOT
from tests.service_process import ServiceProcess

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
NO_BROWSER = "no chromium and chromedriver on this machine (.ci/run installs them)"
SCREENSHOTS = ROOT / "docs" / "explorer"


# ------------------------------------------------------------------ served by the service


async def test_root_and_explorer_serve_the_page_under_a_csp_of_its_own_assets(client):
    for path in ("/", "/explorer", "/explorer?c=events&country=RUS,CHN&q=forum&view=charts"):
        r = await client.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith("text/html")
        csp = r.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp
        assert "connect-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe" not in csp and "http" not in csp
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
    html = (await client.get("/")).text
    assert "<script>" not in html and "style=" not in html, "inline code would need 'unsafe-inline'"
    assert "//" not in html.replace("https://", "").split("<body>")[0].replace("<!doctype", "")


async def test_every_asset_the_page_loads_is_served_by_the_service(client):
    html = (await client.get("/explorer")).text
    assets = ["explorer.css", "app.js", "api.js", "charts.js", "dom.js", "form.js", "format.js"]
    for name in assets:
        assert (await client.get(f"/explorer/assets/{name}")).status_code == 200, name
    assert "/explorer/assets/app.js" in html and "/explorer/assets/explorer.css" in html
    missing = await client.get("/explorer/assets/nothing.js")
    assert missing.status_code == 404


async def test_the_published_schemas_are_served_as_committed(client):
    for name in ("event.schema.json", "project.schema.json"):
        r = await client.get(f"/schemas/{name}")
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/schema+json"
        assert r.json() == json.loads((ROOT / "schemas" / name).read_text())
    r = await client.get("/schemas/key.schema.json")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


async def test_the_page_routes_stay_out_of_the_api_contract(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert not [p for p in paths if p in ("/", "/explorer") or p.startswith("/schemas")]


# ------------------------------------------------------------------ in a real browser


def browser(tmp: Path, *extra: str) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        f"--user-data-dir={tmp / uuid.uuid4().hex}",
        *extra,
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    return driver


@pytest.fixture(scope="module")
def site(database_uri: str) -> Iterator[str]:
    """A real service on its own database with the fixtures loaded."""
    database = f"explorer_{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "MONGODB_URI": database_uri, "DATABASE": database}
    subprocess.run(
        [sys.executable, "-m", "service", "fixtures", "load"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    service = ServiceProcess(database_uri, database, rate_limit_enabled="false")
    service.start()
    try:
        yield service.url
    finally:
        service.stop()


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip(NO_BROWSER)
    d = browser(tmp_path_factory.mktemp("chromium"))
    try:
        yield d
    finally:
        d.quit()


def wait(driver: Any, condition: Any, timeout: float = 15) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition)


def renders(driver: Any) -> int:
    return int(driver.execute_script("return Number(document.body.dataset.renders || 0)"))


def open_page(driver: Any, url: str) -> None:
    driver.get(url)
    wait(
        driver,
        lambda d: renders(d) >= 1 and not d.find_elements("css selector", "[aria-busy=true]"),
    )


def settled_after(driver: Any, before: int) -> None:
    wait(
        driver,
        lambda d: renders(d) > before and not d.find_elements("css selector", "[aria-busy=true]"),
    )


def shown_ids(driver: Any) -> list[str]:
    cards = driver.find_elements("css selector", "#results li.card[data-id]")
    return [c.get_attribute("data-id") for c in cards]


def api(site: str, path: str) -> Any:
    r = httpx.get(site + path, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def sign_in(driver: Any, secret: str = ADMIN_SECRET) -> None:
    driver.execute_script("sessionStorage.clear()")
    driver.refresh()
    wait(driver, lambda d: renders(d) >= 1)
    driver.find_element("xpath", "//button[text()='Sign in with a key']").click()
    driver.find_element("id", "key-input").send_keys(secret)
    before = renders(driver)
    driver.find_element("xpath", "//button[text()='Use this key']").click()
    settled_after(driver, before)
    assert driver.find_element("id", "notice").text.startswith("Key accepted")
    assert secret not in driver.current_url


def new_project(site: str, **overrides: Any) -> dict[str, Any]:
    from tests.factories import project

    rid = f"explorer-{uuid.uuid4().hex[:8]}"
    r = httpx.put(
        f"{site}/v1/projects/{rid}",
        json=project(title="A project to curate", summary="As first entered.", **overrides),
        headers=ADMIN,
        timeout=10,
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None, reason=NO_BROWSER)
def test_search_and_filters_change_the_results_and_the_url(site, driver):
    open_page(driver, f"{site}/")
    everything = api(site, "/v1/projects?limit=20")
    assert shown_ids(driver) == [r["id"] for r in everything["data"]]
    assert driver.find_element("id", "count").text == f"{everything['total']} projects found"

    box = driver.find_element("id", "q")
    box.send_keys("digital silk road")
    before = renders(driver)
    box.submit()
    settled_after(driver, before)
    assert "q=digital+silk+road" in driver.current_url
    searched = api(site, "/v1/projects?q=digital+silk+road&limit=20")
    assert shown_ids(driver) == [r["id"] for r in searched["data"]]

    wait(driver, lambda d: d.find_elements("css selector", "#facet-kind-aggregate-estimate"))
    facet = driver.find_element("css selector", "label[for='facet-kind-aggregate-estimate']")
    before = renders(driver)
    facet.click()
    settled_after(driver, before)
    assert "kind=aggregate-estimate" in driver.current_url
    filtered = api(site, "/v1/projects?q=digital+silk+road&kind=aggregate-estimate&limit=20")
    assert shown_ids(driver) == [r["id"] for r in filtered["data"]]
    assert filtered["total"] < searched["total"]
    assert driver.find_element("id", "count").text == f"{filtered['total']} projects found"
    csv = driver.find_element("id", "csv").get_attribute("href")
    assert "/v1/projects/export?" in csv and "kind=aggregate-estimate" in csv

    # The chip removes its filter; the URL and results follow, and Back restores them.
    chip = driver.find_element("css selector", "button[aria-label^='Remove filter Kind']")
    before = renders(driver)
    chip.click()
    settled_after(driver, before)
    assert "kind=" not in driver.current_url
    assert shown_ids(driver) == [r["id"] for r in searched["data"]]
    before = renders(driver)
    driver.back()
    settled_after(driver, before)
    assert "kind=aggregate-estimate" in driver.current_url
    assert shown_ids(driver) == [r["id"] for r in filtered["data"]]


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None, reason=NO_BROWSER)
def test_more_pages_through_the_results_with_the_cursor(site, driver):
    open_page(driver, f"{site}/explorer?c=projects&sort=title")
    first = api(site, "/v1/projects?sort=title&limit=20")
    assert shown_ids(driver) == [r["id"] for r in first["data"]]
    assert first["next"]
    driver.find_element("id", "more").click()
    second = api(site, f"/v1/projects?sort=title&limit=20&cursor={first['next']}")
    expected = [r["id"] for r in first["data"] + second["data"]]
    wait(driver, lambda d: shown_ids(d) == expected)
    assert not driver.find_element("id", "more").is_displayed()


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None, reason=NO_BROWSER)
def test_chart_bars_match_stats_with_the_lower_bound_marked(site, driver):
    open_page(driver, f"{site}/explorer?view=charts&c=projects&tag=digital-silk-road")

    def bars(chart: str) -> dict[str, tuple[str, str, str]]:
        rows = driver.find_elements("css selector", f"#{chart} li.row")
        return {
            r.get_attribute("data-key"): (
                r.get_attribute("data-value"),
                r.get_attribute("data-lower-bound"),
                r.find_element("css selector", ".value").text,
            )
            for r in rows
        }

    kinds = api(site, "/v1/projects/stats?group_by=kind&metrics=count,usd&tag=digital-silk-road")
    assert {k: v[0] for k, v in bars("chart-kind").items()} == {
        r["kind"]: str(r["count"]) for r in kinds["rows"]
    }
    years = api(site, "/v1/projects/stats?group_by=year&metrics=count,usd&tag=digital-silk-road")
    drawn = bars("chart-year")
    expected = {
        (r["period"] or "") if r["year"] is None else str(r["year"]): (
            str(r["usd"]),
            str(r["usd_lower_bound"]).lower(),
        )
        for r in years["rows"]
        if r["usd"] is not None
    }
    assert {k: v[:2] for k, v in drawn.items()} == expected
    assert years["totals"]["usd"] >= 17_000_000_000 and years["totals"]["usd_lower_bound"]
    lower = [v for v in drawn.values() if v[1] == "true"]
    assert lower and all(v[2].startswith("≥ USD") for v in lower)
    assert "at least USD 17 bn" in driver.find_element("id", "totals").text
    assert "credited" in driver.find_element("css selector", "#chart-country figcaption").text


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None, reason=NO_BROWSER)
def test_the_record_page_shows_conflicts_sources_money_and_history(site, driver):
    record = api(site, "/v1/projects/unsw-torch")
    open_page(driver, f"{site}/explorer?view=record&c=projects&id=unsw-torch")
    assert driver.find_element("tag name", "h1").text == record["title"]
    conflicts = driver.find_elements("css selector", "#conflicts li")
    assert len(conflicts) == len(record["quality"]["conflicts"]) > 0
    assert record["quality"]["conflicts"][0]["description"] in conflicts[0].text
    links = driver.find_elements("css selector", ".sources a")
    assert [a.get_attribute("href") for a in links] == [s["url"] for s in record["sources"]]
    money = driver.find_element("css selector", ".funding").text
    assert "AUD 100 m" in money and "derived from ECB reference rates" in money
    assert "Australia (AUS), host" in driver.find_element("css selector", "main").text
    history = driver.find_elements("css selector", "#history li[data-version]")
    assert [h.get_attribute("data-version") for h in history] == ["1"]
    assert "create by fixtures" in history[0].text


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None, reason=NO_BROWSER)
def test_an_admin_edit_meets_a_412_from_a_concurrent_change_and_resolves_it(site, driver):
    record = new_project(site)
    rid = record["id"]
    open_page(driver, f"{site}/explorer")
    sign_in(driver)
    open_page(driver, f"{site}/explorer?view=edit&c=projects&id={rid}")
    title = driver.find_element("id", "f-title")
    title.clear()
    title.send_keys("Edited in the explorer")

    # Someone else saves a change in the meantime.
    other = httpx.patch(
        f"{site}/v1/projects/{rid}",
        json={"summary": "Changed by someone else."},
        headers={**ADMIN, "If-Match": '"1"', "Content-Type": "application/merge-patch+json"},
        timeout=10,
    )
    assert other.status_code == 200, other.text

    driver.find_element("css selector", "form.record-form button[type=submit]").click()
    box = wait(
        driver,
        lambda d: (
            d.find_element("id", "conflict")
            if d.find_element("id", "conflict").is_displayed()
            else None
        ),
    )
    assert "Someone else changed this record" in box.text and "version 2" in box.text
    assert api(site, f"/v1/projects/{rid}")["title"] == "A project to curate"

    driver.find_element("id", "reapply").click()
    wait(driver, lambda d: "reapplied on version 2" in d.find_element("id", "conflict").text)
    assert "summary" in driver.find_element("id", "conflict").text
    assert driver.find_element("id", "f-title").get_attribute("value") == "Edited in the explorer"
    assert (
        driver.find_element("id", "f-summary").get_attribute("value") == "Changed by someone else."
    )
    before = renders(driver)
    driver.find_element("css selector", "form.record-form button[type=submit]").click()
    settled_after(driver, before)
    wait(driver, lambda d: "Saved as version 3" in d.find_element("id", "notice").text)
    saved = api(site, f"/v1/projects/{rid}")
    assert (saved["version"], saved["title"], saved["summary"]) == (
        3,
        "Edited in the explorer",
        "Changed by someone else.",
    )
    assert driver.find_element("tag name", "h1").text == "Edited in the explorer"


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None, reason=NO_BROWSER)
def test_a_field_error_from_the_server_shows_beside_its_field(site, driver):
    rid = new_project(site)["id"]
    open_page(driver, f"{site}/explorer")
    sign_in(driver)
    open_page(driver, f"{site}/explorer?view=edit&c=projects&id={rid}")
    url = driver.find_element("id", "f-sources-0-url")
    url.clear()
    url.send_keys("not a link")
    driver.find_element("css selector", "form.record-form button[type=submit]").click()
    field = driver.find_element("css selector", "[data-pointer='/sources/0/url']")
    error = wait(
        driver,
        lambda d: (
            field.find_element("css selector", ".field-error")
            if field.find_element("css selector", ".field-error").is_displayed()
            else None
        ),
    )
    assert error.text.startswith("Enter a web address starting with http:// or https://.")
    assert "pattern" in error.text, "the server's own words are kept"
    assert url.get_attribute("aria-invalid") == "true"
    assert driver.switch_to.active_element == url
    title_error = driver.find_element("css selector", "[data-pointer='/title'] .field-error")
    assert not title_error.is_displayed()
    assert api(site, f"/v1/projects/{rid}")["version"] == 1


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None, reason=NO_BROWSER)
def test_a_partner_is_told_what_its_role_may_do(site, driver):
    rid = new_project(site)["id"]
    name = f"partner-{uuid.uuid4().hex[:6]}"
    issued = httpx.post(f"{site}/v1/keys", json={"name": name, "role": "partner"}, headers=ADMIN)
    assert issued.status_code == 201, issued.text
    open_page(driver, f"{site}/explorer")
    sign_in(driver, issued.json()["secret"])
    open_page(driver, f"{site}/explorer?view=edit&c=projects&id={rid}")
    driver.find_element("id", "f-title").send_keys(" (partner)")
    driver.find_element("css selector", "form.record-form button[type=submit]").click()
    problem = wait(
        driver,
        lambda d: (
            d.find_element("id", "problem")
            if d.find_element("id", "problem").is_displayed()
            else None
        ),
    )
    assert "role may not do this" in problem.text and "partners may create records" in problem.text


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None, reason=NO_BROWSER)
def test_an_admin_deletes_a_record_and_restores_it_from_its_history(site, driver):
    rid = new_project(site)["id"]
    open_page(driver, f"{site}/explorer")
    sign_in(driver)
    open_page(driver, f"{site}/explorer?view=record&c=projects&id={rid}")
    driver.find_element("id", "delete").click()
    before = renders(driver)
    driver.find_element("id", "confirm-delete").click()
    settled_after(driver, before)
    assert httpx.get(f"{site}/v1/projects/{rid}").status_code == 410
    assert "deleted" in driver.find_element("css selector", "main").text
    restore = wait(driver, lambda d: d.find_element("css selector", "button[data-restore='1']"))
    before = renders(driver)
    restore.click()
    settled_after(driver, before)
    restored = api(site, f"/v1/projects/{rid}")
    assert restored["version"] == 3 and restored["title"] == "A project to curate"
    assert "Restored version 1" in driver.find_element("id", "notice").text


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None, reason=NO_BROWSER)
def test_the_page_loads_with_the_network_to_every_other_host_blocked(site, tmp_path):
    blocked = browser(tmp_path, "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")
    try:
        started = time.monotonic()
        open_page(blocked, f"{site}/")
        for view in ("?view=charts&tag=digital-silk-road", "?view=record&c=projects&id=unsw-torch"):
            open_page(blocked, f"{site}/explorer{view}")
        elapsed = time.monotonic() - started
        assert blocked.find_elements("css selector", "#conflicts li")
        requested = [
            m["params"]["request"]["url"]
            for m in (json.loads(e["message"])["message"] for e in blocked.get_log("performance"))
            if m["method"] == "Network.requestWillBeSent"
            and not m["params"]["request"]["url"].startswith(("chrome:", "about:"))
        ]
        assert requested and all(u.startswith((site, "data:")) for u in requested), requested
        errors = [e for e in blocked.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
        # And the page itself may not reach another host: its CSP refuses it.
        outcome = blocked.execute_async_script(
            "const done = arguments[0];"
            "fetch('https://cdn.example.org/lib.js')"
            ".then(() => done('fetched'), () => done('refused'));"
        )
        assert outcome == "refused"
        assert elapsed < 30
    finally:
        blocked.quit()


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None, reason=NO_BROWSER)
def test_the_first_view_is_small_and_quick(site, tmp_path):
    """Measures what a first visit to / transfers and how long it takes until the results are
    shown, on the fixtures; the budget guards against a heavy dependency creeping in."""
    d = browser(tmp_path)
    try:
        d.get("about:blank")
        d.get_log("performance")
        started = time.monotonic()
        open_page(d, f"{site}/")
        elapsed = time.monotonic() - started
        sizes = [
            m["params"]["encodedDataLength"]
            for m in (json.loads(e["message"])["message"] for e in d.get_log("performance"))
            if m["method"] == "Network.loadingFinished"
        ]
        total = sum(sizes)
        print(f"\nexplorer first view: {len(sizes)} requests, {total} bytes, {elapsed:.2f} s")
        assert 0 < total < 400_000
        assert elapsed < 10
    finally:
        d.quit()


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None, reason=NO_BROWSER)
def test_an_admin_creates_a_record_through_the_form_built_from_the_schema(site, driver):
    open_page(driver, f"{site}/explorer")
    sign_in(driver)
    open_page(driver, f"{site}/explorer?view=new&c=events")
    # The form follows the published schema: every writable property, no server-managed one.
    schema = api(site, "/schemas/event.schema.json")
    for name, prop in schema["properties"].items():
        found = driver.find_elements("css selector", f"[data-pointer='/{name}']")
        assert bool(found) != bool(prop.get("readOnly")), name
    title = f"Explorer forum {uuid.uuid4().hex[:6]}"
    driver.find_element("id", "f-title").send_keys(title)
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element("id", "f-kind")).select_by_value("forum")
    driver.find_element("id", "f-start-value").send_keys("2026-05")
    driver.find_element("id", "f-sources-0-url").send_keys("https://example.org/forum")
    driver.find_element("id", "f-sources-0-title").send_keys("A report of the forum")
    before = renders(driver)
    driver.find_element("css selector", "form.record-form button[type=submit]").click()
    settled_after(driver, before)
    wait(driver, lambda d: "Saved as version 1" in d.find_element("id", "notice").text)
    assert driver.find_element("tag name", "h1").text == title
    rid = driver.current_url.split("id=")[1]
    created = api(site, f"/v1/events/{rid}")
    assert created["kind"] == "forum" and created["created_by"] == "bootstrap-admin"


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None, reason=NO_BROWSER)
def test_facets_work_from_the_keyboard_and_keep_focus(site, driver):
    from selenium.webdriver.common.keys import Keys

    open_page(driver, f"{site}/explorer?c=events")
    box = wait(driver, lambda d: d.find_element("id", "facet-kind-forum"))
    for element in ("q", "sort", "csv"):
        control = driver.find_element("id", element)
        label = driver.find_elements("css selector", f"label[for='{element}']")
        assert label or control.tag_name == "a", f"{element} has no label"
    box.send_keys(Keys.SPACE)
    wait(driver, lambda d: "kind=forum" in d.current_url)
    wait(driver, lambda d: d.switch_to.active_element.get_attribute("id") == "facet-kind-forum")
    assert driver.switch_to.active_element.is_selected()
    expected = api(site, "/v1/events?kind=forum&limit=20")
    wait(driver, lambda d: shown_ids(d) == [r["id"] for r in expected["data"]])
