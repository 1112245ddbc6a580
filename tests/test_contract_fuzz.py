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

import yaml

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


def test_schemathesis_checks_answer_bodies_against_their_schemas(database_uri, tmp_path):
    """The body checks have teeth: with a contract whose answer schema the server's answers
    do not meet, the same checks fail (an empty schema, as answers once had, passes anything)."""
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    spec["components"]["schemas"]["Vocabularies"]["properties"]["sectors"] = {"type": "string"}
    contract = tmp_path / "openapi.yaml"
    contract.write_text(yaml.safe_dump(spec, sort_keys=False))
    service = ServiceProcess(database_uri, f"fuzz_{uuid.uuid4().hex[:8]}")
    service.start()
    try:
        run = subprocess.run(
            [
                str(Path(sys.executable).parent / "schemathesis"),
                "run",
                str(contract),
                "--url",
                service.url,
                "--checks",
                "response_schema_conformance",
                "--include-operation-id",
                "get_vocabularies",
                "--max-examples",
                "1",
                "--phases",
                "examples,fuzzing",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        service.stop()
    assert run.returncode != 0, run.stdout[-3000:]
    assert "Response violates schema" in run.stdout, run.stdout[-3000:]
