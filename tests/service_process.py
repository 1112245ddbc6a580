"""The service as a real process (uvicorn), for black-box tests that kill or signal it."""

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.conftest import ADMIN_SECRET
from tests.dbserver import ROOT, free_port


class ServiceProcess:
    def __init__(self, mongodb_uri: str, database: str, **settings: str) -> None:
        self.port = free_port()
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "MONGODB_URI": mongodb_uri,
            "DATABASE": database,
            "BOOTSTRAP_ADMIN_KEY": ADMIN_SECRET,
            "CURSOR_SECRET": "test-cursor-secret",
            **{k.upper(): v for k, v in settings.items()},
        }
        self.log_path = Path(tempfile.mkdtemp(prefix="srt-service-")) / "service.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--factory",
                    "service.main:create_app",
                    "--port",
                    str(self.port),
                    "--no-access-log",
                    "--timeout-graceful-shutdown",
                    "30",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the service exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/livez", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise TimeoutError("the service did not start")

    def signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> int | None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=35)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode if self.proc else None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def services(database_uri: str, count: int) -> Iterator[list[str]]:
    """`count` real service processes sharing one fresh database; yields their URLs."""
    database = f"test_procs_{uuid.uuid4().hex[:8]}"
    processes = [ServiceProcess(database_uri, database) for _ in range(count)]
    try:
        for process in processes:
            process.start()
        yield [process.url for process in processes]
    finally:
        for process in processes:
            process.stop()
