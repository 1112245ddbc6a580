"""The published contract passes Redocly's recommended ruleset (redocly.yaml) without errors.

`make test` installs the pinned Redocly CLI into .tools/node (`make tools`)."""

import json
import subprocess

from tests.dbserver import ROOT

REDOCLY = ROOT / ".tools" / "node" / "node_modules" / ".bin" / "redocly"


def test_redocly_lint_finds_no_error():
    assert REDOCLY.exists(), "the Redocly CLI is missing: run `make tools`"
    run = subprocess.run(
        [str(REDOCLY), "lint", "openapi.yaml", "--format=json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(run.stdout)
    errors = [p for p in report["problems"] if p["severity"] == "error"]
    assert report["totals"]["errors"] == 0, errors[:5]
    assert run.returncode == 0, run.stderr[-2000:]
    warnings = sorted({p["ruleId"] for p in report["problems"] if p["severity"] == "warn"})
    print(f"redocly: 0 errors, {report['totals']['warnings']} warnings {warnings}")
