"""The embedded database: a private PostgreSQL 15 cluster with DocumentDB, and FerretDB 2.5 in
front of it speaking the MongoDB wire protocol.

`EmbeddedDatabase(data_dir)` owns one cluster directory: `start()` creates the cluster on first
use (initdb, settings, `CREATE EXTENSION documentdb`), starts PostgreSQL and then FerretDB on
127.0.0.1 only, and waits until both answer; `stop()` stops both. The fault tests stop, kill or
freeze each process on its own (`postgres`, `ferretdb`).

PostgreSQL refuses to run as root, so when we are root both `initdb` and `postgres` run as
Debian's `postgres` user, who must own the cluster directory. Processes are started directly
(no wrapper), so a signal sent to one reaches that server itself.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
FERRETDB_BIN = Path(os.environ.get("FERRETDB_BIN", ROOT / ".build" / "ferretdb"))

# Written once into postgresql.conf at initdb. Memory is kept modest: this is a development
# database on a laptop (shared_buffers 128 MB; PostgreSQL's default work_mem).
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "shared_preload_libraries": "'pg_cron,pg_documentdb_core,pg_documentdb'",
    "cron.database_name": "'postgres'",
    "shared_buffers": "'128MB'",
    "max_connections": "100",
    "documentdb.enableCompact": "true",
    "documentdb.enableLetAndCollationForQueryMatch": "true",
    "documentdb.enableNowSystemVariable": "true",
    "documentdb.enableSortbyIdPushDownToPrimaryKey": "true",
    "documentdb.enableSchemaValidation": "true",
    "documentdb.enableBypassDocumentValidation": "true",
    "documentdb.enableUserCrud": "true",
    "log_min_messages": "warning",
}
# A throwaway cluster (tests, benchmarks) trades durability for speed; `make run` keeps it.
# Both settings only risk what an operating-system crash would lose. full_page_writes stays on:
# without full-page images, redo after PostgreSQL's own crash (a failed WAL write on a full
# disk, a killed postmaster) leaves DocumentDB's RUM indexes with pages that make every later
# insert loop for ever (measured: `test_a_full_disk_answers_503_and_loses_nothing_acknowledged`).
THROWAWAY_SETTINGS = {"fsync": "off", "synchronous_commit": "off"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the process for port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class DatabaseSetupError(RuntimeError):
    """The embedded database cannot be set up here; the message says what to do."""


@dataclass
class EmbeddedDatabase:
    data_dir: Path
    port: int = field(default_factory=free_port)
    pg_port: int = field(default_factory=free_port)
    throwaway: bool = False
    quiet: bool = True
    postgres: subprocess.Popen[bytes] | None = field(default=None, init=False)
    ferretdb: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).resolve()

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    @property
    def pg_dir(self) -> Path:
        return self.data_dir / "postgresql"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "log"

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Starts whichever of the two servers is not running (both, the first time)."""
        self._check_parts()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        created = self._init_cluster()
        self.start_postgres()
        if created:
            self._say("Creating the DocumentDB extension")
            self._psql("CREATE EXTENSION IF NOT EXISTS documentdb CASCADE")
        self.start_ferretdb()

    def stop(self) -> None:
        self.stop_ferretdb()
        self.stop_postgres()

    def cleanup(self) -> None:
        """Stops both servers and removes the cluster (throwaway databases)."""
        self.stop()
        # A backend outlives a killed postmaster until it notices; none may keep running here.
        _kill_group(self.postgres)
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def start_postgres(self) -> None:
        if _running(self.postgres):
            return
        self._say(f"Starting PostgreSQL on 127.0.0.1:{self.pg_port}")
        log = self._log("postgresql.log")
        self.postgres = subprocess.Popen(
            [str(PG_BIN / "postgres"), "-D", str(self.pg_dir), "-p", str(self.pg_port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **self._as_postgres_user(),
        )
        log.close()
        self._wait_for_postgres()

    def start_ferretdb(self) -> None:
        if _running(self.ferretdb):
            return
        self._say(f"Starting FerretDB on 127.0.0.1:{self.port}")
        log = self._log("ferretdb.log")
        self.ferretdb = subprocess.Popen(
            [
                str(FERRETDB_BIN),
                "-listen",
                f"127.0.0.1:{self.port}",
                "-postgresql-url",
                f"postgres://postgres@127.0.0.1:{self.pg_port}/postgres",
                "-state-dir",
                str(self.data_dir / "ferretdb"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "DO_NOT_TRACK": "1"},
        )
        log.close()
        wait_for_port(self.port, 30, self.ferretdb)

    def stop_ferretdb(self) -> None:
        _terminate(self.ferretdb, signal.SIGTERM)

    def stop_postgres(self) -> None:
        # SIGINT is PostgreSQL's "fast" shutdown: roll back open work and stop at once.
        _terminate(self.postgres, signal.SIGINT)

    def kill_ferretdb(self) -> None:
        _kill(self.ferretdb)

    def kill_postgres(self) -> None:
        """SIGKILL to the postmaster alone, as a crash would: its backends notice and exit."""
        _kill(self.postgres)
        # The backends of a killed postmaster exit by themselves once they see it gone; wait
        # for its port so that a restart can bind it.
        _wait_until_closed(self.pg_port)

    def pause(self, which: str) -> None:
        """SIGSTOP: the process keeps its sockets but answers nothing (a hung server)."""
        self._process(which).send_signal(signal.SIGSTOP)

    def resume(self, which: str) -> None:
        self._process(which).send_signal(signal.SIGCONT)

    # -- internals ---------------------------------------------------------------------------

    def _process(self, which: str) -> subprocess.Popen[bytes]:
        proc = {"ferretdb": self.ferretdb, "postgres": self.postgres}[which]
        if proc is None:
            raise RuntimeError(f"{which} is not running")
        return proc

    def _check_parts(self) -> None:
        if not (PG_BIN / "postgres").exists():
            raise DatabaseSetupError(f"{PG_BIN}/postgres is missing: run `embedded/build.sh`")
        if not FERRETDB_BIN.exists():
            raise DatabaseSetupError(f"{FERRETDB_BIN} is missing: run `make deps`")

    def _init_cluster(self) -> bool:
        if (self.pg_dir / "PG_VERSION").exists():
            return False
        self._say(f"Creating a PostgreSQL cluster in {self.pg_dir}")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.pg_dir.mkdir(mode=0o700, exist_ok=True)
        self._give_to_postgres_user(self.pg_dir)
        initdb = [str(PG_BIN / "initdb"), "-D", str(self.pg_dir), "-U", "postgres"]
        initdb += ["--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"]
        if self.throwaway:
            initdb.append("--no-sync")
        subprocess.run(initdb, check=True, capture_output=True, **self._as_postgres_user())
        settings = {**SETTINGS, **(THROWAWAY_SETTINGS if self.throwaway else {})}
        with open(self.pg_dir / "postgresql.conf", "a") as conf:
            conf.write("\n# Silk Road Tracker's embedded database\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        return True

    def _wait_for_postgres(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.postgres is not None
            if self.postgres.poll() is not None:
                raise DatabaseSetupError(
                    f"PostgreSQL exited with {self.postgres.returncode}; "
                    f"see {self.log_dir / 'postgresql.log'}"
                )
            ready = subprocess.run(
                [str(PG_BIN / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.pg_port)],
                check=False,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise TimeoutError(f"PostgreSQL did not accept connections within {timeout} s")

    def _psql(self, sql: str) -> None:
        subprocess.run(
            [
                str(PG_BIN / "psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.pg_port),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-c",
                sql,
            ],
            check=True,
            capture_output=True,
        )

    def _as_postgres_user(self) -> dict[str, Any]:
        if os.geteuid() != 0:
            return {}
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError as exc:
            raise DatabaseSetupError(
                "running as root, PostgreSQL needs the `postgres` user that Debian's "
                "postgresql-15 package creates: run `embedded/build.sh`"
            ) from exc
        return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}

    def _give_to_postgres_user(self, path: Path) -> None:
        if os.geteuid() != 0:
            return
        pw = pwd.getpwnam("postgres")
        os.chown(path, pw.pw_uid, pw.pw_gid)
        # Our own data directory (mkdtemp makes it 0700) only needs to be traversable.
        os.chmod(path.parent, os.stat(path.parent).st_mode | 0o011)  # noqa: S103
        for parent in path.parents:
            if not os.stat(parent).st_mode & 0o001:
                raise DatabaseSetupError(
                    f"the `postgres` user cannot reach {path}: {parent} is not searchable by "
                    "others. Choose a DATA_DIR that it can reach (for example under /tmp)."
                )

    def _log(self, name: str) -> IO[bytes]:
        return open(self.log_dir / name, "ab")

    def _say(self, message: str) -> None:
        if not self.quiet:
            print(f"==> {message}", flush=True)


def _running(proc: subprocess.Popen[bytes] | None) -> bool:
    return proc is not None and proc.poll() is None


def _terminate(proc: subprocess.Popen[bytes] | None, sig: signal.Signals) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGCONT)  # a paused process cannot act on the signal
    proc.send_signal(sig)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        _kill(proc)


def _kill(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def _kill_group(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGKILL to what is left of the process group that `proc` leads (start_new_session)."""
    if proc is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


def _wait_until_closed(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                pass
        except OSError:
            return
        time.sleep(0.05)
