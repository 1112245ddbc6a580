"""A real FerretDB process for tests: started on a free port in a throwaway directory.

Fault tests use `kill()` and `start()` to take the database away and bring it back.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class FerretDB:
    def __init__(self, port: int | None = None) -> None:
        self.binary = Path(os.environ.get("FERRETDB_BIN", ROOT / ".build" / "ferretdb"))
        if not self.binary.exists():
            raise RuntimeError(f"{self.binary} is missing: run `make deps` first")
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="srt-ferretdb-")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self) -> None:
        with open(Path(self.dir) / "ferretdb.log", "ab") as log:
            self.proc = subprocess.Popen(
                [str(self.binary), "-listen", f"127.0.0.1:{self.port}", "-dir", self.dir],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for_port(self.port)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
