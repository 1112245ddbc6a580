"""Contract fuzzing: schemathesis drives the running service from `openapi.yaml`.

Every operation, positive and negative data, and stateful sequences that chain create, read,
update and delete through the contract's links; all checks (no server error, status codes,
content types, headers and bodies as documented, negative data refused, auth honoured).
`make test` runs a fixed seed with a small budget; `make fuzz` a larger one with the coverage
phase (FUZZ_EXAMPLES, FUZZ_PHASES, FUZZ_WORKERS override).
"""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from tests.conftest import ADMIN_SECRET
from tests.dbserver import ROOT
from tests.service_process import ServiceProcess

EXAMPLES = os.environ.get("FUZZ_EXAMPLES", "10")
PHASES = os.environ.get("FUZZ_PHASES", "examples,fuzzing,stateful")
WORKERS = os.environ.get("FUZZ_WORKERS", "4")


def test_schemathesis_finds_no_failure(database_uri, tmp_path):
    service = ServiceProcess(
        database_uri, f"fuzz_{uuid.uuid4().hex[:8]}", rate_limit_enabled="false"
    )
    service.start()
    report = tmp_path / "report.json"
    try:
        run = subprocess.run(
            [
                str(Path(sys.executable).parent / "schemathesis"),
                "run",
                str(ROOT / "openapi.yaml"),
                "--url",
                service.url,
                "--checks",
                "all",
                "--seed",
                "42",
                "--max-examples",
                EXAMPLES,
                "--phases",
                PHASES,
                "--workers",
                WORKERS,
                "--header",
                f"Authorization: Bearer {ADMIN_SECRET}",
                "--report",
                "json",
                "--report-json-path",
                str(report),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=3000,
        )
    finally:
        service.stop()
    summary = json.loads(report.read_text())
    cases = summary["test_cases"]
    print(
        f"schemathesis: {summary['operations']['tested']} operations, {cases['generated']} "
        f"test cases ({EXAMPLES} examples per operation, phases {PHASES}), "
        f"{cases['unique_failures']} failures, {len(summary['errors'])} errors"
    )
    assert run.returncode == 0, run.stdout[-20000:]
    assert summary["operations"]["tested"] == summary["operations"]["total"] >= 20
    assert cases["unique_failures"] == 0 and not summary["errors"]
    server_errors = [line for line in service.log().splitlines() if '"status":5' in line]
    assert not [line for line in server_errors if '"status":503' not in line], server_errors[:3]
