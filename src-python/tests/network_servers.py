"""Loopback servers for the network tests: an HTTP proxy (CONNECT tunnels and plain forwarding,
counting both) and a TLS site whose certificate a test-made CA signed. Each runs its own asyncio
loop in a daemon thread and is closed by its context manager."""

import asyncio
import datetime
import ipaddress
import ssl
import tempfile
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Self

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class _LoopServer:
    """`handler` served on 127.0.0.1 (port 0) from a loop in a thread."""

    def __init__(self, handler: Handler, tls: ssl.SSLContext | None = None) -> None:
        self._handler = handler
        self._tls = tls
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.port = 0

    def __enter__(self) -> Self:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        self.port = future.result(timeout=10)
        return self

    async def _start(self) -> int:
        self._server = await asyncio.start_server(self._handler, "127.0.0.1", 0, ssl=self._tls)
        return int(self._server.sockets[0].getsockname()[1])

    def __exit__(self, *_: Any) -> None:
        async def stop() -> None:
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


class Proxy(_LoopServer):
    """An HTTP proxy: `CONNECT host:port` opens a tunnel; `GET http://host/path` is forwarded
    (one request per connection). `connects` and `forwards` list what went through. `hosts`
    maps a name to a loopback port, for sites with made-up names."""

    def __init__(self, hosts: dict[str, int] | None = None) -> None:
        super().__init__(self._serve)
        self.hosts = hosts or {}
        self.connects: list[str] = []
        self.forwards: list[str] = []

    def _target(self, host: str, port: int) -> tuple[str, int]:
        return ("127.0.0.1", self.hosts[host]) if host in self.hosts else (host, port)

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        head = await client_r.readuntil(b"\r\n\r\n")
        request_line, *headers = head.decode("latin-1").split("\r\n")
        method, target, version = request_line.split(" ")
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            self.connects.append(target)
            up_r, up_w = await asyncio.open_connection(*self._target(host, int(port)))
            client_w.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await client_w.drain()
        else:  # absolute form: http://host:port/path
            self.forwards.append(target)
            rest = target.split("://", 1)[1]
            netloc, _, path = rest.partition("/")
            host, _, port = netloc.partition(":")
            up_r, up_w = await asyncio.open_connection(*self._target(host, int(port or 80)))
            kept = [h for h in headers if h and not h.lower().startswith(("connection:", "proxy-"))]
            up_w.write(f"{method} /{path} {version}\r\n".encode("latin-1"))
            up_w.write(("\r\n".join([*kept, "Connection: close"]) + "\r\n\r\n").encode("latin-1"))
        await asyncio.gather(_pipe(client_r, up_w), _pipe(up_r, client_w))


class TlsSite(_LoopServer):
    """An HTTPS server for 127.0.0.1 answering every request with an OpenAI-style model list,
    its certificate signed by `ca` (a CA made for the test, in no trust store)."""

    def __init__(self, ca: "TestCa") -> None:
        super().__init__(self._serve, tls=ca.server_context())
        self.requests = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            writer.close()
            return
        self.requests += 1
        body = b'{"data": [{"id": "tls-model"}]}'
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n")
        writer.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()


class TestCa:
    """A certificate authority and a server certificate it signed for 127.0.0.1 and localhost."""

    __test__ = False  # not a pytest class

    def __init__(self) -> None:
        now = datetime.datetime.now(datetime.UTC)
        self._key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Sage Test CA")])
        self.cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                           content_commitment=False, key_encipherment=False, data_encipherment=False,
                           key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(self._key, hashes.SHA256())
        )  # fmt: skip
        self.pem = self.cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
        self._server_key = ec.generate_private_key(ec.SECP256R1())
        self.server_cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(name).public_key(self._server_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
                critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(self._key, hashes.SHA256())
        )  # fmt: skip

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as folder:
            cert, key = Path(folder) / "cert.pem", Path(folder) / "key.pem"
            cert.write_bytes(self.server_cert.public_bytes(serialization.Encoding.PEM))
            key.write_bytes(self._server_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()))  # fmt: skip
            context.load_cert_chain(cert, key)
        return context


class Socks5Proxy(_LoopServer):
    """A SOCKS5 proxy (RFC 1928, no authentication, CONNECT only); `connects` lists the targets."""

    def __init__(self) -> None:
        super().__init__(self._serve)
        self.connects: list[str] = []

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        version, methods = await client_r.readexactly(2)
        await client_r.readexactly(methods)
        client_w.write(b"\x05\x00")  # no authentication
        _, command, _, kind = await client_r.readexactly(4)
        if kind == 1:
            host = ".".join(str(b) for b in await client_r.readexactly(4))
        elif kind == 3:
            host = (await client_r.readexactly((await client_r.readexactly(1))[0])).decode()
        else:
            host = str(ipaddress.IPv6Address(await client_r.readexactly(16)))
        port = int.from_bytes(await client_r.readexactly(2), "big")
        assert version == 5 and command == 1
        self.connects.append(f"{host}:{port}")
        up_r, up_w = await asyncio.open_connection(host, port)
        client_w.write(b"\x05\x00\x00\x01" + bytes(4) + bytes(2))
        await client_w.drain()
        await asyncio.gather(_pipe(client_r, up_w), _pipe(up_r, client_w))
