#!/usr/bin/env bash
# What `make bench` needs besides the project's venv: wrk (Debian) and Eve in its own venv
# (Eve pins its own Flask and PyMongo, so it never enters the service's dependencies).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
  if [[ $(id -u) -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq wrk
fi
if [[ ! -x bench/.venv-eve/bin/gunicorn ]]; then
  python3 -m venv bench/.venv-eve
  bench/.venv-eve/bin/pip install --quiet --disable-pip-version-check eve==2.3.1 gunicorn==27.0.1
fi
