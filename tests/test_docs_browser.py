"""/docs and /redoc work offline: their assets are served by the service itself."""

import shutil
import subprocess
import time

import pytest

from tests.service_process import ServiceProcess

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


async def test_docs_pages_reference_only_local_assets(client):
    for page in ("/docs", "/redoc"):
        html = (await client.get(page)).text
        assert "cdn." not in html and "unpkg" not in html and "googleapis" not in html
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        r = await client.get(f"/static-offline-docs/{asset}")
        assert r.status_code == 200 and len(r.content) > 10_000


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (.ci/run installs it)")
def test_docs_render_the_operations_in_headless_chromium(database_uri, tmp_path):
    assert CHROMIUM is not None
    service = ServiceProcess(database_uri, "docs_test")
    service.start()
    try:
        started = time.monotonic()
        dom = subprocess.run(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                f"--user-data-dir={tmp_path}",
                "--virtual-time-budget=15000",
                "--dump-dom",
                f"{service.url}/docs",
            ],
            capture_output=True,
            text=True,
            timeout=90,
        ).stdout
        assert time.monotonic() - started < 90
        assert "opblock" in dom, "Swagger UI rendered no operations"
        for operation in ("create_event", "list_projects", "get_vocabularies"):
            assert operation in dom
    finally:
        service.stop()
