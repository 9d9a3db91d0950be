"""Personal information at rest: encryption, keyed hashes (blind index), masks.

ID and phone numbers are encrypted with a key derived from
``settings.FIELD_ENCRYPTION_KEY`` (environment only), found by an HMAC of the
normalised value under a second derived key, and shown masked to everyone
without the reveal permission.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=4)
def _derived(secret: str) -> tuple[Fernet, bytes]:
    if not secret:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is not set.")

    def derive(info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
            secret.encode()
        )

    fernet = Fernet(base64.urlsafe_b64encode(derive(b"kaitai field encryption v1")))
    return fernet, derive(b"kaitai blind index v1")


def _keys() -> tuple[Fernet, bytes]:
    return _derived(settings.FIELD_ENCRYPTION_KEY)


def encrypt(value: str) -> str:
    if not value:
        return ""
    return _keys()[0].encrypt(value.encode()).decode("ascii")


def encrypt_many(values) -> list[str]:
    """``encrypt`` for many values, with one key derivation."""
    fernet = _keys()[0]
    return [fernet.encrypt(v.encode()).decode("ascii") if v else "" for v in values]


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _keys()[0].decrypt(token.encode("ascii")).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored personal number cannot be decrypted: FIELD_ENCRYPTION_KEY is wrong."
        ) from exc


def blind_index(kind: str, value: str) -> str:
    """A keyed hash of a normalised value: equal values give equal hashes, and
    without the key the hash reveals nothing (unlike a plain SHA-256 of the
    small space of ID numbers)."""
    if not value:
        return ""
    message = f"{kind}:{value}".encode()
    return hmac.new(_keys()[1], message, hashlib.sha256).hexdigest()


def blind_index_many(kind: str, values) -> dict[str, str]:
    """``blind_index`` of many values: value -> hash (equal values hashed once)."""
    key = _keys()[1]
    prefix = f"{kind}:"
    return {
        value: hmac.digest(key, (prefix + value).encode(), "sha256").hex() if value else ""
        for value in set(values)
    }


def mask_id_number(value: str) -> str:
    """150523********123X"""
    if len(value) != 18:
        return "*" * len(value)
    return value[:6] + "*" * 8 + value[-4:]


def mask_phone(value: str) -> str:
    """138****5678"""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
