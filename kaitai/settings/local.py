"""The embedded default: a laptop or a single server with nothing else running."""

from django.core.management.utils import get_random_secret_key

from .base import *  # noqa: F403
from .base import VAR_DIR, env

DEBUG = env.bool("DEBUG", default=True)


def _local_secret(name: str) -> str:
    """A random secret kept under var/ so that sessions survive restarts."""
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(get_random_secret_key())
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env("SECRET_KEY", default="") or _local_secret("secret_key")
FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY", default="") or _local_secret(
    "field_encryption_key"
)
