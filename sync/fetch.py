"""Fetch one URL of a partner feed, safely (docs/feeds.md, "What a run guarantees").

- **The address guard, on every hop** (the first URL, each redirect, each `next` page). Only
  `http` and `https`. The host is resolved without blocking the loop (`loop.getaddrinfo`) and
  the fetch is refused if ANY address it resolves to is one `sync.addresses` refuses (loopback,
  private, link-local, cloud metadata ... unless the feed's `Policy` allows it).
- **The connection is pinned to the checked address** (no DNS-rebinding window): the request
  goes to the resolved IP itself, with the original `Host` header and, for https, the original
  name for SNI and certificate verification (httpcore's `sni_hostname` extension). A name that
  resolves to a public address for our check and to 127.0.0.1 a moment later cannot steer us.
  Caveat: if the caller's client sends requests through a proxy, the proxy connects, and only
  the proxy's own rules apply to where it goes.
- **One origin per feed.** The feed's origin is the scheme, host and port of its URL; a
  `next` page is fetched with `origin` set to the feed's URL. Every hop, redirect or page, must
  be on that origin unless `Policy.allow_cross_host_redirects` says otherwise: a `next` page or
  redirect on another port of the same host is another origin, refused like another host, and
  so is a step down from https to http. The one step that stays on the origin is the upgrade of
  an http origin on port 80 to https on port 443 of the same host (as httpx and requests treat
  it). The caller's headers (which may carry a feed's secret) go only to the feed's origin:
  a hop elsewhere, when allowed, goes without them.
- **Redirects by hand**, each hop through the same guard and origin rule, at most
  `max_redirects`.
- **One deadline** over everything: resolving, connecting, retries, their waits, the whole body.
- **Retries** on connect errors, 429 and 5xx only, with jittered exponential backoff, honouring
  `Retry-After`. A connection that breaks before any byte of the body arrived is retried like a
  connect error; once body bytes arrived it is not (the feed is reachable but broken, and a
  second full download would eat the deadline; the next scheduled run tries again). A
  certificate that fails verification is not retried, nor is a name that does not resolve
  (a temporary DNS failure is).
- **The body is decoded by `sync.bodies`, not by httpx**, in bounded pieces counted against
  the size limit before they are kept.

Longer than 300 lines because every hop, retry and wait runs in one loop under one deadline.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import logging
import random
import socket
import ssl
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO

import httpx

from . import addresses, bodies
from .errors import DeadlineExceeded, FetchError, HttpStatusError, Refused

log = logging.getLogger("alliance.sync.fetch")

_REDIRECT_STATUSES = {301, 302, 303, 307, 308}
_DEFAULT_PORTS = {"http": 80, "https": 443}


@functools.cache
def tls() -> ssl.SSLContext:
    """How every feed's HTTPS is verified: certifi's roots, as httpx does by default. Made once
    per process and shared by every client: loading the roots costs about 25 ms, which each
    client would pay again (a dry run through the API made one per request)."""
    return httpx.create_ssl_context()


def client() -> httpx.AsyncClient:
    """A client for feeds, sharing the process's TLS context."""
    return httpx.AsyncClient(verify=tls())


@dataclass(frozen=True)
class Limits:
    connect_timeout: float = 5.0
    read_timeout: float = 15.0  # between bytes
    deadline: float = 60.0  # whole fetch incl. retries and the whole body
    max_bytes: int = 50 * 1024 * 1024  # counted on DECODED bytes (a gzip bomb stops here)
    retries: int = 3  # extra attempts on connect errors, 429 and 5xx
    backoff: float = 0.5  # base of jittered exponential backoff, seconds
    backoff_max: float = 30.0


@dataclass(frozen=True)
class Policy:
    allow_private: bool = False  # loopback, private, CGNAT, unique-local ...: not link-local
    allow_link_local: bool = False  # link-local (169.254.0.0/16, fe80::/10) and cloud metadata
    allow_cross_host_redirects: bool = False  # redirects and `next` pages to another origin
    max_redirects: int = 5


@dataclass
class Fetched:
    status: int  # 200 or 304
    body: BinaryIO | None  # a readable, seekable temp file at 0 (None on 304); the caller closes it
    url: str  # final URL after redirects
    etag: str | None  # on a 304 without validators of its own: the ones that were sent
    last_modified: str | None
    bytes: int  # decoded body size
    attempts: int  # tries, 1 + retries used (redirect hops are not counted)


class _Retry(Exception):
    """A fault worth another attempt; becomes the final error when no attempt is left."""

    def __init__(self, reason: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(reason)
        self.reason, self.status, self.retry_after = reason, status, retry_after


@dataclass
class _Progress:
    """Where the fetch is, so that a deadline can say where it struck."""

    url: httpx.URL
    stage: str = "resolving"
    tries: int = 0
    body_bytes: int = 0


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    origin: str | None = None,
    headers: Mapping[str, str] | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    limits: Limits = Limits(),
    policy: Policy = Policy(),
) -> Fetched:
    """GET `url` within `limits` and `policy`; raise a `FetchError` (one line naming the URL).

    `origin` is the URL of the feed when `url` is one of its `next` pages (default: `url`):
    `headers` are sent only to its origin, and a `url` on another origin is refused unless
    `policy.allow_cross_host_redirects`."""
    progress = _Progress(_parse(url))
    home = _parse(origin) if origin else progress.url
    try:
        async with asyncio.timeout(limits.deadline) as deadline:
            return await _fetch(
                client, progress, home, headers, etag, last_modified, limits, policy
            )
    except TimeoutError:
        if not deadline.expired():
            raise
        raise DeadlineExceeded(
            f"{_shown(progress.url)}: the deadline of {limits.deadline:g} s passed while "
            f"{progress.stage} (try {progress.tries}, {progress.body_bytes} body bytes so far)"
        ) from None


async def _fetch(
    client: httpx.AsyncClient,
    progress: _Progress,
    home: httpx.URL,
    headers: Mapping[str, str] | None,
    etag: str | None,
    last_modified: str | None,
    limits: Limits,
    policy: Policy,
) -> Fetched:
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + limits.deadline
    first = progress.url
    if _strays(first, home, policy):
        raise Refused(
            f"{_shown(home)}: next page {_shown(first)} is on another host, port or scheme "
            "than the feed; refused (Policy.allow_cross_host_redirects is off)"
        )
    own = httpx.Headers({"Accept-Encoding": bodies.ACCEPT_ENCODING})
    if etag:
        own["If-None-Match"] = etag
    if last_modified:
        own["If-Modified-Since"] = last_modified
    timeout = httpx.Timeout(
        connect=limits.connect_timeout,
        read=limits.read_timeout,
        write=limits.read_timeout,
        pool=limits.connect_timeout,
    )
    hops = [first]
    progress.tries = 1
    while True:
        hop = progress.url = hops[-1]
        sent = httpx.Headers(headers or {}) if _same_origin(hop, home) else httpx.Headers()
        sent.update(own)
        try:
            resolved = await _guard(hop, policy, progress)
            result = await _send(client, hop, resolved, sent, timeout, limits, progress)
        except _Retry as fault:
            delay = min(
                fault.retry_after if fault.retry_after is not None else _backoff(limits, progress),
                limits.backoff_max,
            )
            if progress.tries > limits.retries:
                raise _final(hop, fault, progress.tries) from None
            if delay >= give_up_at - loop.time():  # waiting would only end in the deadline
                why = f"waiting {delay:.1f} s more would pass the deadline of {limits.deadline:g} s"
                raise _final(hop, fault, progress.tries, why) from None
            log.warning("%s: %s; retrying in %.1f s", _shown(hop), fault.reason, delay)
            progress.stage = "waiting to retry"
            await asyncio.sleep(delay)
            progress.tries += 1
            continue
        if isinstance(result, Fetched):
            result.attempts = progress.tries
            if result.status == 304:
                result.etag = result.etag or etag
                result.last_modified = result.last_modified or last_modified
            log.info(
                "%s: %d, %d bytes, %d tries",
                _shown(hop),
                result.status,
                result.bytes,
                result.attempts,
            )
            return result
        hops.append(_next_hop(hops, result, home, policy))  # a redirect hop is not a retry


def _next_hop(
    hops: list[httpx.URL], location: httpx.URL, home: httpx.URL, policy: Policy
) -> httpx.URL:
    chain = " → ".join(_shown(u) for u in [*hops, location])
    if location in hops:
        raise FetchError(f"{_shown(hops[0])}: redirect loop: {chain}")
    if len(hops) > policy.max_redirects:
        raise FetchError(f"{_shown(hops[0])}: more than {policy.max_redirects} redirects: {chain}")
    if _strays(location, home, policy):
        raise Refused(
            f"{_shown(hops[0])}: redirect to {_shown(location)}, another host, port or scheme "
            "than the feed's, is not allowed (Policy.allow_cross_host_redirects is off)"
        )
    log.debug("%s: redirected to %s", _shown(hops[-1]), _shown(location))
    return location


def _strays(url: httpx.URL, home: httpx.URL, policy: Policy) -> bool:
    return not (policy.allow_cross_host_redirects or _same_origin(url, home))


def _same_origin(url: httpx.URL, home: httpx.URL) -> bool:
    """Whether `url` is on the origin of `home` (scheme, host and port), or on its upgrade from
    http on port 80 to https on port 443, which takes the feed's headers no further than the
    same server, and no longer in clear text."""
    there, here = _origin(url), _origin(home)
    return there == here or (here, there) == (
        ("http", home.raw_host, 80),
        ("https", home.raw_host, 443),
    )


def _origin(url: httpx.URL) -> tuple[str, bytes, int]:
    return url.scheme, url.raw_host, url.port or _DEFAULT_PORTS[url.scheme]


def _parse(url: str, redirected_from: httpx.URL | None = None) -> httpx.URL:
    said = f"{_shown(redirected_from)}: redirect to " if redirected_from else ""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as error:
        raise FetchError(f"{said}{_shown(url)}: not a valid URL ({error})") from None
    if parsed.scheme not in ("http", "https"):
        raise Refused(f"{said}{_shown(url)}: scheme {parsed.scheme or '(none)'!r} is not http(s)")
    if not parsed.raw_host:
        raise FetchError(f"{said}{_shown(url)}: the URL has no host")
    return parsed


async def _guard(url: httpx.URL, policy: Policy, progress: _Progress) -> list[str]:
    """The addresses `url` resolves to, all of them allowed by `policy`."""
    progress.stage = "resolving"
    host = url.raw_host.decode("ascii")
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        if error.errno == socket.EAI_AGAIN:  # a temporary DNS failure is worth another try
            raise _Retry(f"cannot resolve {host} ({error.strerror})") from None
        raise FetchError(f"{_shown(url)}: cannot resolve {host} ({error.strerror})") from None
    found = list(dict.fromkeys(info[4][0] for info in infos))
    for address in found:  # ANY bad address refuses: we might connect to any of them
        if why := addresses.refused(address, policy):
            raise Refused(f"{_shown(url)}: {host} is {address}, {why}")
    return found


async def _send(
    client: httpx.AsyncClient,
    url: httpx.URL,
    resolved: list[str],
    headers: httpx.Headers,
    timeout: httpx.Timeout,
    limits: Limits,
    progress: _Progress,
) -> Fetched | httpx.URL:
    """One try at `url`: a `Fetched`, or the URL a redirect points to. Raises `_Retry`."""
    failure: Exception | None = None
    for address in resolved:  # all were checked; try them in order, like a resolver would
        progress.stage = f"waiting for {address}"
        pinned = url.copy_with(host=address)
        sent = httpx.Headers(headers)
        sent["Host"] = url.netloc.decode("ascii")
        sni = {"sni_hostname": url.raw_host.decode("ascii")} if url.scheme == "https" else {}
        try:
            async with client.stream(
                "GET",
                pinned,
                headers=sent,
                timeout=timeout,
                follow_redirects=False,
                extensions=sni,
            ) as response:
                progress.stage = "reading the body"
                return await _answer(response, url, limits, progress)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            if _bad_certificate(error):  # another try or address will not mend a certificate
                raise FetchError(f"{_shown(url)}: TLS refused ({_describe(error)})") from None
            failure = error  # the next address may answer
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as error:
            raise _Retry(f"no answer ({_describe(error)})") from None
        except httpx.HTTPError as error:  # a proxy error, a malformed request...: not transient
            raise FetchError(f"{_shown(url)}: {_describe(error)}") from None
    raise _Retry(f"cannot connect ({_describe(failure)})")


async def _answer(
    response: httpx.Response, url: httpx.URL, limits: Limits, progress: _Progress
) -> Fetched | httpx.URL:
    status = response.status_code
    if status in _REDIRECT_STATUSES:
        location = response.headers.get("Location")
        if not location:
            raise HttpStatusError(f"{_shown(url)}: HTTP {status} without a Location", status)
        try:
            return _parse(str(url.join(location)), url)
        except httpx.InvalidURL as error:
            raise FetchError(f"{_shown(url)}: redirect to an invalid URL ({error})") from None
    validators = response.headers.get("ETag"), response.headers.get("Last-Modified")
    if status == 304:
        return Fetched(304, None, str(url), *validators, bytes=0, attempts=0)
    if status == 429 or 500 <= status <= 599:
        raise _Retry(f"HTTP {status}", status, _retry_after(response.headers.get("Retry-After")))
    if status != 200:
        raise HttpStatusError(f"{_shown(url)}: HTTP {status} {response.reason_phrase}", status)
    body = await _read_body(response, url, limits, progress)
    return Fetched(200, body, str(url), *validators, bytes=progress.body_bytes, attempts=0)


async def _read_body(
    response: httpx.Response, url: httpx.URL, limits: Limits, progress: _Progress
) -> BinaryIO:
    headers = response.headers
    body = bodies.Body(
        _shown(url),
        limits.max_bytes,
        headers.get("Content-Encoding"),
        headers.get("Content-Length"),
    )
    progress.body_bytes = 0
    try:
        try:
            async for raw in response.aiter_raw():  # leaving early closes the connection
                body.write(raw)
                progress.body_bytes = body.bytes
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as error:
            if response.num_bytes_downloaded == 0:
                raise _Retry(f"no body ({_describe(error)})") from None
            raise FetchError(
                f"{_shown(url)}: the connection broke after {response.num_bytes_downloaded} "
                f"bytes of the body ({_describe(error)})"
            ) from None
        return body.done()
    except BaseException:
        body.close()
        raise


def _backoff(limits: Limits, progress: _Progress) -> float:
    # "Equal jitter": half fixed, half random, so retries of many feeds spread out but never
    # come back at once.
    ceiling = min(limits.backoff_max, limits.backoff * 2 ** (progress.tries - 1))
    return random.uniform(ceiling / 2, ceiling)


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _final(url: httpx.URL, fault: _Retry, tries: int, why: str = "") -> FetchError:
    message = f"{_shown(url)}: {fault.reason} after {tries} {'try' if tries == 1 else 'tries'}"
    message += f" ({why})" if why else ""
    return HttpStatusError(message, fault.status) if fault.status else FetchError(message)


def _bad_certificate(error: BaseException | None) -> bool:
    while error is not None:  # httpx wraps httpcore's error, which wraps the ssl one
        if isinstance(error, ssl.SSLCertVerificationError):
            return True
        error = error.__cause__ or error.__context__
    return False


def _describe(error: Exception | None) -> str:
    text = " ".join(str(error).split()) if error else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _shown(url: str | httpx.URL) -> str:
    """`url` for a message: no user, password or query (they may carry secrets)."""
    try:
        parts = urllib.parse.urlsplit(str(url))
        netloc = parts.netloc.rpartition("@")[2]
    except ValueError:
        return "<unparseable URL>"
    if not netloc:  # file:, data:, javascript: ...
        return f"{parts.scheme}:{parts.path}"
    return f"{parts.scheme}://{netloc}{parts.path}{'?…' if parts.query else ''}"
