"""Secrets the sidecar keeps outside its data dir: the OS keychain, through the `keyring` package.

macOS Keychain, Windows Credential Manager, the Secret Service on Linux (GNOME Keyring, KWallet's
bridge). Each secret is one entry: service "Sage Desktop", user = its name, value = the bytes in
base64 (keyring stores text).

Every call blocks (D-Bus, a password prompt) and runs in a daemon thread with a time limit, so a
keychain that waits on a prompt no one answers turns into `KeychainUnavailable` instead of a hung
start-up; request paths call these through `asyncio.to_thread`.

Tests only: `SAGE_TEST_KEYCHAIN_FILE` names a JSON file used instead of the OS keychain. The frozen
app ignores it (and logs that), so a shipped build never falls back to a file quietly.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import queue
import secrets
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

log = logging.getLogger(__name__)

SERVICE = "Sage Desktop"
TEST_FILE_ENV = "SAGE_TEST_KEYCHAIN_FILE"
# A keychain that has not answered by then is waiting for something (a prompt, a locked
# collection, a D-Bus activation that hangs): report it rather than wait forever.
CALL_TIMEOUT_SECONDS = 10.0

T = TypeVar("T")


class KeychainUnavailable(Exception):
    """No keychain to use: none installed or running, locked, or access denied. `reason` is
    readable English for the user (never carries a secret)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Store(Protocol):
    name: str

    def get(self, name: str) -> str | None: ...
    def set(self, name: str, value: str) -> None: ...
    def delete(self, name: str) -> None: ...


class _FileStore:
    """Tests only: the entries in one JSON file (0600), written whole and renamed into place."""

    name = "test file"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            raise KeychainUnavailable(f"the test keychain file cannot be read: {error}") from error
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _write(self, entries: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(entries, out)
        os.replace(tmp, self.path)

    def get(self, name: str) -> str | None:
        with self._lock:
            return self._read().get(name)

    def set(self, name: str, value: str) -> None:
        with self._lock:
            entries = self._read()
            entries[name] = value
            self._write(entries)

    def delete(self, name: str) -> None:
        with self._lock:
            entries = self._read()
            if entries.pop(name, None) is not None:
                self._write(entries)


def _os_backend() -> KeyringBackend:
    """The backend named by PYTHON_KEYRING_BACKEND or keyring's config file, else this OS's own
    keychain. Not keyring's own detection: it imports every backend module to rank them, and on
    Linux its macOS module looks for three frameworks with ctypes.util.find_library, which runs
    ldconfig, gcc and ld for each — nine processes at every start. The OS's backend is what that
    detection picks anyway with the packages we ship (KWallet's and libsecret's need
    dbus-python and PyGObject)."""
    import keyring.core
    from keyring.backends import fail

    chosen = keyring.core.load_env() or keyring.core.load_config()
    if chosen is not None:
        return chosen
    native: type[KeyringBackend]
    if sys.platform == "darwin":
        from keyring.backends import macOS

        native = macOS.Keyring
    elif sys.platform == "win32":
        from keyring.backends import Windows

        native = Windows.WinVaultKeyring
    elif sys.platform.startswith("linux"):
        from keyring.backends import SecretService

        native = SecretService.Keyring
    else:
        return keyring.core.get_keyring()
    return native() if native.viable else fail.Keyring()  # type: ignore[no-untyped-call]


class _KeyringStore:
    """The OS keychain (`_os_backend`)."""

    def __init__(self) -> None:
        from keyring.backends import fail

        backend = _os_backend()
        if isinstance(backend, fail.Keyring):
            raise KeychainUnavailable(_no_backend_reason())
        if type(backend).__module__ == SECRET_SERVICE_BACKEND and not _activation_allowed:
            # Only a Secret Service that is running: D-Bus would otherwise start one (GNOME
            # Keyring) that may ask for a new keyring's password in a window nobody expects
            # at start-up. The user's "check again" allows it (redetect(activate=True)).
            if not _secret_service_running():
                raise KeychainUnavailable(_no_backend_reason())
        self._backend = backend
        self.name = _friendly_name(type(backend).__module__, getattr(backend, "name", ""))

    def get(self, name: str) -> str | None:
        return self._backend.get_password(SERVICE, name)

    def set(self, name: str, value: str) -> None:
        self._backend.set_password(SERVICE, name, value)

    def delete(self, name: str) -> None:
        from keyring.errors import PasswordDeleteError

        try:
            self._backend.delete_password(SERVICE, name)
        except PasswordDeleteError:
            pass  # already absent


SECRET_SERVICE_BACKEND = "keyring.backends.SecretService"
_activation_allowed = False


def _secret_service_running() -> bool:
    from jeepney.bus_messages import message_bus  # type: ignore[import-untyped]
    from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]

    try:
        with open_dbus_connection(bus="SESSION") as connection:
            query = message_bus.NameHasOwner("org.freedesktop.secrets")
            return bool(connection.send_and_get_reply(query, timeout=2).body[0])
    except Exception:  # noqa: BLE001 - no bus, a refused connection: no running service
        return False


def _no_backend_reason() -> str:
    if sys.platform.startswith("linux"):
        return (
            "no Secret Service is running (install and unlock GNOME Keyring or KWallet "
            "in your desktop session)"
        )
    return "no system keychain was found"


def _friendly_name(module: str, fallback: str) -> str:
    names = {
        "keyring.backends.SecretService": "Secret Service",
        "keyring.backends.macOS": "macOS Keychain",
        "keyring.backends.Windows": "Windows Credential Manager",
        "keyring.backends.kwallet": "KWallet",
        "keyring.backends.libsecret": "Secret Service (libsecret)",
    }
    return names.get(module, fallback or module)


def _test_file() -> Path | None:
    value = os.environ.get(TEST_FILE_ENV)
    if not value:
        return None
    if getattr(sys, "frozen", False):
        log.warning(
            "%s is for tests only; the app ignores it and uses the OS keychain", TEST_FILE_ENV
        )
        return None
    return Path(value)


def _store() -> _Store:
    path = _test_file()
    if path is not None:
        return _FileStore(path)
    return _KeyringStore()


def _call(action: Callable[[], T], what: str) -> T:
    """Run one keychain action in a daemon thread, bounded by CALL_TIMEOUT_SECONDS. Anything it
    raises becomes KeychainUnavailable (its type and message; keyring never puts the secret in
    one)."""
    results: queue.Queue[tuple[bool, object]] = queue.Queue(maxsize=1)

    def run() -> None:
        try:
            results.put((True, action()))
        except BaseException as error:  # noqa: BLE001 - handed to the caller's thread
            results.put((False, error))

    threading.Thread(target=run, name=f"keychain-{what}", daemon=True).start()
    try:
        ok, value = results.get(timeout=CALL_TIMEOUT_SECONDS)
    except queue.Empty:
        raise KeychainUnavailable(
            f"the keychain did not answer within {CALL_TIMEOUT_SECONDS:.0f} s while trying to "
            f"{what} (locked, or waiting for a password prompt?)"
        ) from None
    if ok:
        return value  # type: ignore[return-value]
    if isinstance(value, KeychainUnavailable):
        raise value
    assert isinstance(value, BaseException)
    message = str(value).strip() or "no details"
    raise KeychainUnavailable(
        f"the keychain refused to {what}: {type(value).__name__}: {message}"
    ) from value


def _decode(text: str, name: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as error:
        raise KeychainUnavailable(f"the keychain entry {name!r} is not in our format") from error


def redetect(*, activate: bool = False) -> None:
    """Look for the OS keychain again, after the user installed or unlocked one, or when a test
    changed the session bus: nothing is cached (each call finds its backend afresh), so this
    only records `activate` — the user asked, so a Secret Service that D-Bus can start may be
    started (and may prompt)."""
    global _activation_allowed
    _activation_allowed = _activation_allowed or activate


def backend_name() -> str:
    """Which keychain is in use ("Secret Service", "macOS Keychain", "test file"…), or "none"."""
    try:
        return _call(lambda: _store().name, "find the keychain")
    except KeychainUnavailable:
        return "none"


def get_secret(name: str) -> bytes | None:
    """The secret stored under `name`, None when there is none."""
    text = _call(lambda: _store().get(name), "read a secret")
    return None if text is None else _decode(text, name)


def set_secret(name: str, value: bytes) -> None:
    encoded = base64.b64encode(value).decode("ascii")
    _call(lambda: _store().set(name, encoded), "store a secret")


def delete_secret(name: str) -> None:
    _call(lambda: _store().delete(name), "delete a secret")


_create_lock = threading.Lock()


def get_or_create_key(name: str, nbytes: int = 32) -> bytes:
    """A random key of `nbytes`, created on first use and read back from the keychain ever after.
    A new key is read back once after storing it, so a keychain that accepts but does not keep
    entries is found out before anything is encrypted with a key that would be lost."""
    with _create_lock:
        existing = get_secret(name)
        if existing is not None:
            if len(existing) != nbytes:
                raise KeychainUnavailable(
                    f"the keychain entry {name!r} holds {len(existing)} bytes, not {nbytes}"
                )
            return existing
        key = secrets.token_bytes(nbytes)
        set_secret(name, key)
        if get_secret(name) != key:
            raise KeychainUnavailable("the keychain did not keep a new key")
        log.info("created the keychain key %r in %s", name, backend_name())
        return key
