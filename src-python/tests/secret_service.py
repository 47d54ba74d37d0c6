"""A real Secret Service for tests: a private D-Bus session bus and an unlocked GNOME Keyring on it,
both started, owned and killed by the caller (no desktop session needed, the user's own keychain
untouched). scripts/lib.sh's APT_TEST_PACKAGES installs gnome-keyring and dbus; without them the
tests that need this are skipped with that reason."""

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

START_TIMEOUT_SECONDS = 15.0
SECRETS_NAME = "org.freedesktop.secrets"


@dataclass(frozen=True)
class SecretService:
    bus_address: str
    home: Path

    def env(self) -> dict[str, str]:
        """What a process needs to reach this keychain (and not the user's)."""
        return {
            "DBUS_SESSION_BUS_ADDRESS": self.bus_address,
            "HOME": str(self.home),
            "XDG_DATA_HOME": str(self.home / "data"),
            "XDG_RUNTIME_DIR": str(self.home / "run"),
        }


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _name_has_owner(address: str, name: str) -> bool:
    from jeepney.bus_messages import message_bus  # type: ignore[import-untyped]
    from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]

    with open_dbus_connection(bus=address) as connection:
        reply = connection.send_and_get_reply(message_bus.NameHasOwner(name), timeout=2)
    return bool(reply.body[0])


@contextmanager
def running_session_bus(root: Path) -> Iterator[str]:
    """A private D-Bus session bus (its address); services on it start only when asked for."""
    if not shutil.which("dbus-daemon"):
        pytest.skip("dbus-daemon not installed (scripts/lib.sh's APT_TEST_PACKAGES brings dbus)")
    socket = root / "bus"
    bus = subprocess.Popen(
        [
            "dbus-daemon",
            "--session",
            "--nofork",
            "--print-address=1",
            f"--address=unix:path={socket}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert bus.stdout is not None
        address = bus.stdout.readline().decode().strip()
        assert address, "dbus-daemon printed no address"
        yield address
    finally:
        _stop(bus)


def name_has_owner(address: str, name: str = SECRETS_NAME) -> bool:
    return _name_has_owner(address, name)


@contextmanager
def running_secret_service(root: Path, password: str = "test-password") -> Iterator[SecretService]:
    if not shutil.which("gnome-keyring-daemon"):
        pytest.skip(
            "gnome-keyring-daemon not installed (scripts/lib.sh's APT_TEST_PACKAGES brings "
            "gnome-keyring; CI installs it)"
        )
    home = root / "keyring-home"
    (home / "run").mkdir(parents=True, mode=0o700)
    (home / "data").mkdir(mode=0o700)
    with running_session_bus(root) as address:
        service = SecretService(address, home)
        keyring_daemon = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **service.env()},
        )
        try:
            assert keyring_daemon.stdin is not None
            # --unlock reads the login keyring's password from stdin up to EOF.
            keyring_daemon.stdin.write(password.encode())
            keyring_daemon.stdin.close()
            deadline = time.monotonic() + START_TIMEOUT_SECONDS
            while not _name_has_owner(address, SECRETS_NAME):
                if keyring_daemon.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gnome-keyring-daemon did not start its Secret Service")
                time.sleep(0.05)
            yield service
        finally:
            _stop(keyring_daemon)
