#!/usr/bin/env bash
# Sets up the portal on the embedded default (SQLite under var/, Celery
# in-process, local-memory cache), loads the demo county and serves it at
# http://127.0.0.1:8000
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export DJANGO_SETTINGS_MODULE=kaitai.settings.local
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py seed_demo
exec .venv/bin/python manage.py runserver "${KAITAI_ADDR:-127.0.0.1:8000}"
