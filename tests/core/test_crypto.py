"""Personal numbers at rest: AES-GCM with a key from the environment."""

from __future__ import annotations

import base64

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.core.exceptions import ImproperlyConfigured

from core import crypto

VALUES = ["150523198001010019", "13800001234", "", "x" * 33, "身份证", "13800001234"]


def test_values_round_trip_and_blank_stays_blank():
    tokens = crypto.encrypt_many(VALUES)
    assert tokens[2] == "" and crypto.encrypt("") == "" and crypto.decrypt("") == ""
    assert [crypto.decrypt(t) for t in tokens] == VALUES
    assert crypto.decrypt(crypto.encrypt("150523198001010019")) == "150523198001010019"


def test_tokens_hide_the_value_and_differ_each_time():
    tokens = crypto.encrypt_many(VALUES)
    assert tokens[1] != tokens[5]  # a fresh nonce each
    assert all(t.startswith(crypto.PREFIX) for t in tokens if t)
    for token in tokens:
        assert "1380000" not in token and "150523" not in token


def test_another_key_cannot_decrypt(settings):
    token = crypto.encrypt("150523198001010019")
    settings.FIELD_ENCRYPTION_KEY = "another key entirely, 32 bytes or more"
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEY"):
        crypto.decrypt(token)


def test_a_changed_token_is_refused():
    token = crypto.encrypt("150523198001010019")
    sealed = bytearray(base64.urlsafe_b64decode(token[len(crypto.PREFIX) :]))
    sealed[-1] ^= 1
    forged = crypto.PREFIX + base64.urlsafe_b64encode(bytes(sealed)).decode()
    with pytest.raises(ImproperlyConfigured):
        crypto.decrypt(forged)
    with pytest.raises(ImproperlyConfigured):
        crypto.decrypt(crypto.PREFIX + "not base64!")


def test_no_key_is_refused(settings):
    settings.FIELD_ENCRYPTION_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="not set"):
        crypto.encrypt("13800001234")


def test_values_stored_as_fernet_tokens_still_decrypt(settings):
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"kaitai field encryption v1")
    fernet = Fernet(base64.urlsafe_b64encode(key.derive(settings.FIELD_ENCRYPTION_KEY.encode())))
    assert crypto.decrypt(fernet.encrypt(b"13800001234").decode()) == "13800001234"


def test_blind_index_is_keyed_and_many_equals_one(settings):
    values = ["150523198001010019", "13800001234", "x"]
    assert crypto.blind_index_many("id", values) == {v: crypto.blind_index("id", v) for v in values}
    assert crypto.blind_index_many("phone", [""]) == {"": ""}
    assert crypto.blind_index("id", "x") != crypto.blind_index("phone", "x")
    before = crypto.blind_index("id", "150523198001010019")
    settings.FIELD_ENCRYPTION_KEY = "another key entirely, 32 bytes or more"
    assert crypto.blind_index("id", "150523198001010019") != before


def test_masks():
    assert crypto.mask_id_number("15052319800101123X") == "150523********123X"
    assert crypto.mask_phone("13812345678") == "138****5678"
    assert crypto.mask_phone("123") == "***"
