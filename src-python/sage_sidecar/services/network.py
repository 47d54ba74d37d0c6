"""Settings → Network: saved in app_meta (`network.settings`, JSON), checked, and made current
for every outgoing connection (core/network.py). The certificates are public, so the PEM is
kept as it was pasted; a proxy's password is write-only at the API and kept apart from its URL,
sealed like provider keys (storage/secrets.py: encrypted when the OS keychain has Sage's key)."""

import asyncio
import itertools
import json
import logging
import ssl
import urllib.request
from pathlib import Path
from typing import Literal
from urllib.parse import quote

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.core import network
from sage_sidecar.core.errors import InvalidError, UpstreamError
from sage_sidecar.schemas.network import (
    MAX_PEM,
    CertificateInfo,
    NetworkCheckResult,
    NetworkSettings,
    NetworkSettingsOut,
)
from sage_sidecar.services import app_meta
from sage_sidecar.storage import secrets
from sage_sidecar.storage.backup_files import without_password
from sage_sidecar.storage.models import AppMeta

log = logging.getLogger(__name__)

KEY = "network.settings"
SEALED_PASSWORD = "proxy_password_sealed"  # beside the settings in KEY's JSON
PASSWORD_PURPOSE = "app_meta:network.proxy_password"  # the sealed password's associated data
HIDDEN = "***"
CHECK_TIMEOUT_S = 8.0  # under the fuzz layer's 10 s per request
_generations = itertools.count(1)


async def load(session: AsyncSession) -> NetworkSettings:
    row = await session.get(AppMeta, KEY)
    if row is None:
        return NetworkSettings()
    try:
        stored = json.loads(row.value)
        sealed = stored.pop(SEALED_PASSWORD, None) if isinstance(stored, dict) else None
        settings = NetworkSettings.model_validate(stored)
    except ValueError:
        log.warning("network: the saved settings are unreadable; using the system proxy")
        return NetworkSettings()
    if isinstance(sealed, str) and settings.proxy_url:
        # The key may still be loading at start (only provider and MCP secrets make the start
        # wait for it): opening before it is there would read as a lost key.
        await secrets.BOX.ready()
        password = secrets.BOX.open(sealed, PASSWORD_PURPOSE)
        if password is None:
            log.warning("network: the proxy's saved password cannot be read (its key is gone)")
        else:
            settings.proxy_url = _with_password(settings.proxy_url, password)
    return settings


async def _stored_json(settings: NetworkSettings) -> str:
    """What app_meta keeps: the settings with the proxy's password taken out of its URL and
    sealed beside them, so the database file never holds it in plain text when a keychain is
    there."""
    kept = settings.model_dump(mode="json")
    url = httpx.URL(settings.proxy_url) if settings.proxy_url else None
    if url is not None and url.password:
        await secrets.BOX.ready()  # sealed with the keychain's key when there is one
        kept["proxy_url"] = without_password(settings.proxy_url)
        kept[SEALED_PASSWORD] = secrets.BOX.seal(url.password, PASSWORD_PURPOSE)
    return json.dumps(kept)


def _check_proxy_url(value: str | None) -> str:
    if not value:
        raise InvalidError("a custom proxy needs its URL", code="network.proxy_url_invalid",
                           reason="missing")  # fmt: skip
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as error:
        raise InvalidError(f"not a proxy URL: {error}", code="network.proxy_url_invalid",
                           reason=str(error)) from error  # fmt: skip
    if url.scheme not in network.PROXY_SCHEMES or not url.host or url.path not in ("", "/"):
        reason = f"use {', '.join(s + '://' for s in network.PROXY_SCHEMES)} with a host and port"
        raise InvalidError(f"not a proxy URL: {reason}", code="network.proxy_url_invalid",
                           reason=reason)  # fmt: skip
    return value


def _with_password(proxy_url: str, password: str | None) -> str:
    url = httpx.URL(proxy_url)
    userinfo = f"{quote(url.username, safe='')}:{quote(password or '', safe='')}@"
    return f"{url.scheme}://{userinfo}{url.netloc.decode('ascii').rsplit('@', 1)[-1]}"


def _read_ca_file(path: str) -> str:
    try:
        file = Path(path).expanduser()
        if file.stat().st_size > MAX_PEM:
            raise OSError("larger than 1 MB")
        return file.read_text(encoding="ascii")
    except (OSError, UnicodeError) as error:
        raise InvalidError(f"cannot read the certificate file {path}: {error}",
                           code="network.ca_file_unreadable", path=path) from error  # fmt: skip


def _certificates(pem: str, source: Literal["pasted", "file"]) -> list[CertificateInfo]:
    """Every certificate in `pem`; InvalidError when there is none or one is unreadable."""
    if not pem.strip():
        return []
    # Imported on first use: only Settings → Network reads certificates, and cryptography's X.509
    # module is ~40 ms of every start otherwise (python -X importtime).
    from cryptography import x509

    try:
        certs = x509.load_pem_x509_certificates(pem.encode("ascii"))
    except (ValueError, UnicodeError) as error:
        raise InvalidError("the certificate is not PEM (-----BEGIN CERTIFICATE-----)",
                           code="network.ca_invalid", reason=str(error)[:200]) from error  # fmt: skip
    return [
        CertificateInfo(subject=c.subject.rfc4514_string(), source=source,
                        not_after=c.not_valid_after_utc.date().isoformat())
        for c in certs
    ]  # fmt: skip


def _profile(settings: NetworkSettings, ca_file_text: str) -> network.NetworkProfile:
    """Blocking (the trust store, the OS's proxy settings): run in a thread."""
    pem = "\n".join(p for p in (settings.extra_ca_pem, ca_file_text) if p.strip())
    try:
        context = network.trust_store(pem)
    except ssl.SSLError as error:
        raise InvalidError("the certificate cannot be used", code="network.ca_invalid",
                           reason=str(error)[:200]) from error  # fmt: skip
    proxies = {k: v for k, v in urllib.request.getproxies().items() if isinstance(v, str)}
    return network.NetworkProfile(
        mode=settings.mode,
        proxy_url=settings.proxy_url if settings.mode == "custom" else None,
        bypass=tuple(settings.bypass),
        system_proxies=proxies,
        ssl_context=context,
        generation=next(_generations),
    )


async def activate_saved(session: AsyncSession) -> None:
    """At start: the saved settings in force. A CA file that went missing is left out (logged)
    rather than stopping the app; the rest still applies."""
    settings = await load(session)
    ca_text = ""
    if settings.extra_ca_path:
        try:
            ca_text = _read_ca_file(settings.extra_ca_path)
        except InvalidError as error:
            log.warning("network: %s; starting without it", error)
    try:
        network.activate(await asyncio.to_thread(_profile, settings, ca_text))
    except InvalidError as error:
        log.warning(
            "network: the saved certificates are unusable (%s); using certifi's only", error
        )
        settings = settings.model_copy(update={"extra_ca_pem": "", "extra_ca_path": None})
        network.activate(await asyncio.to_thread(_profile, settings, ""))


async def save(session: AsyncSession, data: NetworkSettings) -> NetworkSettingsOut:
    """Check, keep, and put in force for the next request."""
    if data.mode == "custom" or data.proxy_url:  # one kept for later must still be a proxy URL
        _check_proxy_url(data.proxy_url)
    saved = await load(session)
    if data.proxy_url and saved.proxy_url and httpx.URL(data.proxy_url).password == HIDDEN:
        data.proxy_url = _with_password(data.proxy_url, httpx.URL(saved.proxy_url).password)
    ca_text = _read_ca_file(data.extra_ca_path) if data.extra_ca_path else ""
    _certificates(data.extra_ca_pem, "pasted")
    _certificates(ca_text, "file")
    profile = await asyncio.to_thread(_profile, data, ca_text)
    await app_meta.set_value(session, KEY, await _stored_json(data))
    await session.commit()
    network.activate(profile)
    return describe(data, ca_text)


def describe(settings: NetworkSettings, ca_text: str | None = None) -> NetworkSettingsOut:
    if ca_text is None and settings.extra_ca_path:
        try:
            ca_text = _read_ca_file(settings.extra_ca_path)
        except InvalidError:
            ca_text = ""
    try:
        certificates = _certificates(settings.extra_ca_pem, "pasted")
        certificates += _certificates(ca_text or "", "file")
    except InvalidError:
        certificates = []
    proxies = network.current().system_proxies
    system = proxies.get("https") or proxies.get("all")
    return NetworkSettingsOut(
        **settings.model_dump(exclude={"proxy_url"}),
        proxy_url=network.redacted(settings.proxy_url) if settings.proxy_url else None,
        certificates=certificates,
        system_proxy=network.redacted(system) if system else None,
    )


async def check(url: str) -> NetworkCheckResult:
    """One GET of `url` the way a provider call would go: says whether a failure is the proxy's,
    the certificate's or the server's."""
    try:
        target = httpx.URL(url)
        proxy = network.current().proxy_for(target)
    except (httpx.InvalidURL, ValueError) as error:
        raise InvalidError(f"not a URL: {error}", code="network.url_invalid") from error
    shown = network.redacted(proxy) if proxy else None
    async with network.http_client(timeout=CHECK_TIMEOUT_S, follow_redirects=False) as client:
        try:
            response = await client.get(target)
        except httpx.ProxyError as error:
            raise UpstreamError(f"the proxy {shown} cannot be reached or refused: {error}",
                                code="network.proxy_unreachable", proxy=shown or "") from error  # fmt: skip
        except httpx.ConnectError as error:
            if "CERTIFICATE_VERIFY_FAILED" in str(error):
                raise UpstreamError(f"{httpx.URL(url).host}'s certificate is not trusted",
                                    code="network.tls_untrusted",
                                    host=httpx.URL(url).host) from error  # fmt: skip
            raise UpstreamError(f"cannot reach {url}: {error}", code="network.unreachable",
                                url=url) from error  # fmt: skip
        except (httpx.HTTPError, ValueError) as error:  # ValueError: a host idna refuses
            raise UpstreamError(f"cannot reach {url}: {type(error).__name__}",
                                code="network.unreachable", url=url) from error  # fmt: skip
    return NetworkCheckResult(
        ok=response.status_code < 500, status=response.status_code, proxy=shown
    )
