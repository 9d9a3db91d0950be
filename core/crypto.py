"""Personal information at rest: encryption, keyed hashes (blind index), masks.

ID and phone numbers are encrypted (AES-256-GCM, a random 96-bit nonce per
value) with a key derived from ``settings.FIELD_ENCRYPTION_KEY`` (environment
only), found by an HMAC of the normalised value under a second derived key,
and shown masked to everyone without the reveal permission.

A stored value is ``g1:`` followed by the URL-safe base64 of nonce, ciphertext
and tag. Values written before that format (Fernet tokens, under a key derived
the same way) still decrypt. AES-GCM is four times faster than Fernet here
(20,000 ID numbers: 0.026 s against 0.114 s), which counts in roster imports.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "g1:"
_NONCE = 12


@lru_cache(maxsize=4)
def _derived(secret: str) -> tuple[AESGCM, Fernet, bytes]:
    if not secret:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is not set.")

    def derive(info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
            secret.encode()
        )

    key = derive(b"kaitai field encryption v1")
    return AESGCM(key), Fernet(base64.urlsafe_b64encode(key)), derive(b"kaitai blind index v1")


def _keys() -> tuple[AESGCM, Fernet, bytes]:
    return _derived(settings.FIELD_ENCRYPTION_KEY)


def encrypt(value: str) -> str:
    return encrypt_many([value])[0]


def encrypt_many(values) -> list[str]:
    """``encrypt`` for many values: one key look-up, one read of random nonces."""
    values = list(values)
    cipher = _keys()[0]
    nonces = os.urandom(_NONCE * len(values))
    out = []
    for i, value in enumerate(values):
        if not value:
            out.append("")
            continue
        nonce = nonces[i * _NONCE : (i + 1) * _NONCE]
        sealed = nonce + cipher.encrypt(nonce, value.encode(), None)
        out.append(PREFIX + base64.urlsafe_b64encode(sealed).decode("ascii"))
    return out


def decrypt(token: str) -> str:
    if not token:
        return ""
    cipher, fernet, _ = _keys()
    try:
        if token.startswith(PREFIX):
            sealed = base64.urlsafe_b64decode(token[len(PREFIX) :])
            return cipher.decrypt(sealed[:_NONCE], sealed[_NONCE:], None).decode()
        return fernet.decrypt(token.encode("ascii")).decode()
    except (InvalidTag, InvalidToken, ValueError) as exc:
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
    return hmac.new(_keys()[2], message, hashlib.sha256).hexdigest()


def blind_index_many(kind: str, values) -> dict[str, str]:
    """``blind_index`` of many values: value -> hash (equal values hashed once)."""
    keyed = hmac.new(_keys()[2], f"{kind}:".encode(), hashlib.sha256)
    result = {}
    for value in set(values):
        if not value:
            result[value] = ""
            continue
        mac = keyed.copy()  # the key and the prefix are hashed once for all values
        mac.update(value.encode())
        result[value] = mac.hexdigest()
    return result


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
