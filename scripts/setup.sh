#!/usr/bin/env bash
# Creates .venv with Python 3.11 and installs the locked dependencies.
# Usage: scripts/setup.sh [dev]
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PY="$candidate"; break
    fi
  done
fi
if [ -z "$PY" ]; then
  echo "需要 Python 3.11 (Python 3.11 is required)" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
LOCK=requirements.lock
if [ "${1:-}" = "dev" ]; then
  LOCK=requirements-dev.lock
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$LOCK"
