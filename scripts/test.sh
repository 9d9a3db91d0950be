#!/usr/bin/env bash
# Sets up the development dependencies and runs the tests. Tests that need
# PostgreSQL (DATABASE_URL), Redis (REDIS_URL) or Chromium are skipped, with
# the reason shown, when those are not available.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev
exec .venv/bin/python -m pytest "$@"
