"""Settings for the test suite: the embedded default unless DATABASE_URL/REDIS_URL say otherwise."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105
FIELD_ENCRYPTION_KEY = "test-field-key-not-for-production"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["*"]
if not env("REDIS_URL", default=""):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# SQLite flushes tables with DELETE between transactional tests; PostgreSQL
# uses TRUNCATE, which the audit log's row trigger does not block.
AUDIT_LOG_SQLITE_DELETE_GUARD = False
