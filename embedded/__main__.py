"""`python -m embedded serve`: run the embedded database in the foreground until SIGINT/SIGTERM.

Creates the cluster in `--data-dir` on first use and keeps it afterwards; prints the MongoDB
URI once both servers answer. `make run` starts it behind the service.
"""

import argparse
import signal
import sys
import threading
from pathlib import Path

from embedded.server import DatabaseSetupError, EmbeddedDatabase


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m embedded")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run PostgreSQL + FerretDB until stopped")
    serve.add_argument("--data-dir", type=Path, default=Path(".data"))
    serve.add_argument("--port", type=int, default=27017, help="FerretDB (MongoDB wire) port")
    serve.add_argument("--pg-port", type=int, default=5433, help="PostgreSQL port")
    args = parser.parse_args()

    db = EmbeddedDatabase(args.data_dir, port=args.port, pg_port=args.pg_port, quiet=False)
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    try:
        db.start()
    except DatabaseSetupError as exc:
        db.stop()
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BaseException:
        db.stop()
        raise
    print(f"==> Database ready at {db.uri} (logs in {db.log_dir})", flush=True)
    try:
        while not stopping.wait(0.5):
            for name, proc in (("PostgreSQL", db.postgres), ("FerretDB", db.ferretdb)):
                if proc is not None and proc.poll() is not None:
                    print(f"error: {name} exited with {proc.returncode}", file=sys.stderr)
                    return 1
    finally:
        print("==> Stopping the database", flush=True)
        db.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
