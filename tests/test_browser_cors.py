"""A page on another origin reads and writes through CORS in headless Chromium.

The page is served by a second HTTP server (another port, so another origin), allowed either
by name or, with the service on loopback, as a loopback origin; it uses
`fetch` to list events, create one with a key (`If-None-Match: *`) and update it with
`If-Match`; it writes what it saw into the DOM, which the test reads back.
"""

import functools
import html
import http.server
import json
import re
import shutil
import subprocess
import threading
import uuid

import pytest

from tests.conftest import ADMIN_SECRET
from tests.dbserver import free_port
from tests.factories import event
from tests.service_process import ServiceProcess

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

PAGE = """<!doctype html>
<html><body><pre id="out">pending</pre>
<script>
const api = "{api}";
const key = "Bearer {key}";
const record = {record};
const out = {{}};
(async () => {{
  try {{
    const list = await fetch(api + "/v1/events?limit=5");
    out.list_status = list.status;
    out.list_is_array = Array.isArray((await list.json()).data);
    out.list_ratelimit = list.headers.get("RateLimit");
    out.list_policy = list.headers.get("RateLimit-Policy");
    out.list_request_id = list.headers.get("X-Request-ID");
    const put = await fetch(api + "/v1/events/{rid}", {{
      method: "PUT",
      headers: {{"Authorization": key, "Content-Type": "application/json", "If-None-Match": "*"}},
      body: JSON.stringify(record),
    }});
    out.put_status = put.status;
    out.put_etag = put.headers.get("ETag");
    out.put_location = put.headers.get("Location");
    const patch = await fetch(api + "/v1/events/{rid}", {{
      method: "PATCH",
      headers: {{"Authorization": key, "Content-Type": "application/merge-patch+json",
                "If-Match": out.put_etag, "Idempotency-Key": "browser-1"}},
      body: JSON.stringify({{summary: "Edited in a browser"}}),
    }});
    out.patch_status = patch.status;
    out.patch_etag = patch.headers.get("ETag");
    out.summary = (await patch.json()).summary;
    const stale = await fetch(api + "/v1/events/{rid}", {{
      method: "DELETE", headers: {{"Authorization": key, "If-Match": out.put_etag}},
    }});
    out.stale_status = stale.status;
    out.stale_type = stale.headers.get("Content-Type");
  }} catch (e) {{
    out.error = String(e);
  }}
  document.getElementById("out").textContent = JSON.stringify(out);
}})();
</script></body></html>
"""


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (.ci/run installs it)")
@pytest.mark.parametrize("listed", [True, False], ids=["listed-origin", "loopback-dev-origin"])
def test_a_page_on_another_origin_reads_and_writes_in_chromium(database_uri, tmp_path, listed):
    """Listed: the page's origin is in CORS_ORIGINS. Loopback: nothing is listed, the service
    listens on 127.0.0.1 (HOST) and the page is a dev server on http://localhost:<port>."""
    page_port = free_port()
    if listed:
        origin = f"http://127.0.0.1:{page_port}"
        settings = {"cors_origins": json.dumps([origin])}
    else:
        origin = f"http://localhost:{page_port}"
        settings = {"host": "127.0.0.1"}
    service = ServiceProcess(database_uri, f"browser_{uuid.uuid4().hex[:6]}", **settings)
    rid = f"from-a-browser-{uuid.uuid4().hex[:6]}"
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(
        PAGE.format(api=service.url, key=ADMIN_SECRET, record=json.dumps(event()), rid=rid)
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    pages = http.server.ThreadingHTTPServer(("127.0.0.1", page_port), handler)
    threading.Thread(target=pages.serve_forever, daemon=True).start()
    service.start()
    try:
        assert CHROMIUM is not None
        dom = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                f"--user-data-dir={tmp_path / 'profile'}",
                "--virtual-time-budget=20000",
                "--dump-dom",
                f"{origin}/index.html",
            ],
            capture_output=True,
            text=True,
            timeout=90,
        ).stdout
    finally:
        pages.shutdown()
        pages.server_close()
        service.stop()
    found = re.search(r'<pre id="out">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    seen = json.loads(html.unescape(found.group(1)))
    assert "error" not in seen, seen
    assert seen["list_status"] == 200 and seen["list_is_array"]
    assert seen["list_ratelimit"].startswith('"anonymous";r=')
    assert seen["list_policy"].startswith('"anonymous";q=')
    assert len(seen["list_request_id"]) == 32
    assert (seen["put_status"], seen["put_etag"]) == (201, '"1"')
    assert seen["put_location"] == f"/v1/events/{rid}"
    assert (seen["patch_status"], seen["patch_etag"]) == (200, '"2"')
    assert seen["summary"] == "Edited in a browser"
    assert seen["stale_status"] == 412
    assert seen["stale_type"] == "application/problem+json"
