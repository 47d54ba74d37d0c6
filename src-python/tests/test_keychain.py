"""core/keychain.py against a real Secret Service (GNOME Keyring on a private D-Bus session), the
test-only file store, no keychain at all, a locked one and one that never answers."""

import base64
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from secret_service import (
    SecretService,
    name_has_owner,
    running_secret_service,
    running_session_bus,
)

from sage_sidecar.core import keychain

NO_KEYCHAIN = "keyring.backends.fail.Keyring"


@pytest.fixture
def secret_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SecretService]:
    """The real keychain, reached the way the app reaches it (keyring picks the backend)."""
    with running_secret_service(tmp_path) as service:
        for name, value in service.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv(keychain.TEST_FILE_ENV, raising=False)
        monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
        monkeypatch.delenv("DISPLAY", raising=False)  # a password prompt must fail, not wait
        keychain.redetect()
        yield service
    keychain.redetect()


def test_secret_service_stores_keys_in_the_login_keyring(secret_service: SecretService) -> None:
    assert keychain.backend_name() == "Secret Service"
    assert keychain.get_secret("secrets-key") is None

    key = keychain.get_or_create_key("secrets-key")
    assert len(key) == 32
    assert keychain.get_or_create_key("secrets-key") == key  # created once, then read back
    assert keychain.get_secret("secrets-key") == key

    if shutil.which("secret-tool"):
        # Another Secret Service client sees the entry under our service name, as base64.
        looked_up = subprocess.run(
            ["secret-tool", "lookup", "service", "Sage Desktop", "username", "secrets-key"],
            capture_output=True,
            timeout=10,
            check=True,
        )
        assert base64.b64decode(looked_up.stdout) == key

    keychain.set_secret("other", b"\x00\xffbytes")
    assert keychain.get_secret("other") == b"\x00\xffbytes"
    keychain.delete_secret("other")
    assert keychain.get_secret("other") is None
    keychain.delete_secret("other")  # deleting an absent secret is not an error


def test_a_locked_keychain_is_reported_not_waited_on(secret_service: SecretService) -> None:
    import secretstorage

    keychain.set_secret("secrets-key", b"k" * 32)
    connection = secretstorage.dbus_init()
    try:
        secretstorage.get_default_collection(connection).lock()
    finally:
        connection.close()

    with pytest.raises(keychain.KeychainUnavailable) as caught:
        keychain.get_secret("secrets-key")
    assert "KeyringLocked" in caught.value.reason


def test_a_secret_service_that_is_not_running_is_not_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """D-Bus could start GNOME Keyring on demand, which would ask for a new keyring's password in
    a window at start-up: only a running Secret Service is used until the user asks."""
    if not shutil.which("gnome-keyring-daemon"):
        pytest.skip("gnome-keyring-daemon not installed (scripts/lib.sh's APT_TEST_PACKAGES)")
    with running_session_bus(tmp_path) as address:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        monkeypatch.setenv("HOME", str(tmp_path))
        monkeypatch.delenv(keychain.TEST_FILE_ENV)
        monkeypatch.delenv("DISPLAY", raising=False)
        keychain.redetect()
        try:
            with pytest.raises(keychain.KeychainUnavailable, match="no Secret Service is running"):
                keychain.get_or_create_key("secrets-key")
            assert not name_has_owner(address), "the keychain was started through D-Bus"
        finally:
            monkeypatch.undo()
            keychain.redetect()


def test_no_keychain_is_reported_with_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(keychain.TEST_FILE_ENV, raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", NO_KEYCHAIN)
    keychain.redetect()
    try:
        with pytest.raises(keychain.KeychainUnavailable) as caught:
            keychain.get_or_create_key("secrets-key")
        assert caught.value.reason
        with pytest.raises(keychain.KeychainUnavailable):
            keychain.set_secret("x", b"y")
        assert keychain.backend_name() == "none"
    finally:
        monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
        keychain.redetect()


def test_the_test_file_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "keys" / "keychain.json"
    monkeypatch.setenv(keychain.TEST_FILE_ENV, str(path))
    assert keychain.backend_name() == "test file"
    assert keychain.get_secret("secrets-key") is None
    key = keychain.get_or_create_key("secrets-key", nbytes=16)
    assert len(key) == 16 and keychain.get_or_create_key("secrets-key", nbytes=16) == key
    assert path.stat().st_mode & 0o777 == 0o600
    keychain.delete_secret("secrets-key")
    assert keychain.get_secret("secrets-key") is None


def test_the_frozen_app_ignores_the_test_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "keychain.json"
    monkeypatch.setenv(keychain.TEST_FILE_ENV, str(path))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", NO_KEYCHAIN)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    keychain.redetect()
    try:
        with pytest.raises(keychain.KeychainUnavailable):
            keychain.set_secret("secrets-key", b"k")
        assert not path.exists()
        assert keychain.backend_name() == "none"
    finally:
        monkeypatch.undo()
        keychain.redetect()


def test_a_keychain_that_never_answers_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    class Hanging:
        name = "hanging"

        def get(self, name: str) -> str | None:
            release.wait(30)
            return None

    monkeypatch.setattr(keychain, "CALL_TIMEOUT_SECONDS", 0.3)
    monkeypatch.setattr(keychain, "_store", Hanging)
    try:
        with pytest.raises(keychain.KeychainUnavailable, match="did not answer"):
            keychain.get_secret("secrets-key")
    finally:
        release.set()


def test_a_corrupt_entry_is_unavailable_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "keychain.json"
    path.write_text('{"secrets-key": "not base64!"}')
    monkeypatch.setenv(keychain.TEST_FILE_ENV, str(path))
    with pytest.raises(keychain.KeychainUnavailable, match="not in our format"):
        keychain.get_secret("secrets-key")
