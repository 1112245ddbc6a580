#!/usr/bin/env bash
# Serve the API in the foreground. Without MONGODB_URI it starts the embedded database
# (PostgreSQL + DocumentDB + FerretDB, data in $DATA_DIR), loads the fixtures into an empty
# database, and stops the database again when the service stops (Ctrl-C or SIGTERM), leaving
# nothing running. A second run keeps the data.
set -euo pipefail
cd "$(dirname "$0")/.."

HOST=${HOST:-127.0.0.1} PORT=${PORT:-8000} DB_PORT=${DB_PORT:-27017} PG_PORT=${PG_PORT:-5433}
DATA_DIR=${DATA_DIR:-.data}
export HOST  # the service reads it too: on loopback, CORS allows loopback origins (README)
pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -z "${MONGODB_URI:-}" ]]; then
  .venv/bin/python -m embedded serve --data-dir "$DATA_DIR" --port "$DB_PORT" --pg-port "$PG_PORT" &
  pids+=($!)
  export MONGODB_URI="mongodb://127.0.0.1:${DB_PORT}/"
fi

echo "==> Waiting for the database at ${MONGODB_URI}"
.venv/bin/python - <<'PY'
import os, sys, time
from pymongo import MongoClient
client = MongoClient(os.environ["MONGODB_URI"], serverSelectionTimeoutMS=500)
for _ in range(120):
    try:
        client.admin.command("ping"); sys.exit(0)
    except Exception:
        time.sleep(0.5)
sys.exit("The database did not answer within 60 s.")
PY

echo "==> Loading the fixtures (only into an empty database)"
.venv/bin/python -m service fixtures load --if-empty
echo "==> Serving http://${HOST}:${PORT}/ (the explorer; API: /v1/projects, docs: /docs)"
# uvloop and httptools (both in uvicorn[standard]) named explicitly, so a missing one fails
# loudly instead of silently falling back to the slower pure-Python loop and parser.
.venv/bin/uvicorn --factory service.main:create_app --host "$HOST" --port "$PORT" \
  --loop uvloop --http httptools --no-access-log --timeout-graceful-shutdown 20 &
pids+=($!)
wait "${pids[-1]}"
