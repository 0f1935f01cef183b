"""A small HTTP/1.1 server on loopback that misbehaves on purpose, for the sync's tests.

    async with FeedServer() as server:
        server.route("/feed", respond(200, b"{}", {"ETag": '"v1"'}))
        server.route("/flaky", sequence(respond(503), respond(503), respond(200, b"ok")))
        ... server.url("/feed") ... server.count("/feed") ...

It listens on 127.0.0.1 unless given another `host` (`FeedServer(host="::1")`). Every request
is recorded (method, path, headers) before its handler runs, so a test can assert how many
requests a fault cost. Each connection serves one response and is closed
(`Connection: close`), which keeps the faults simple to shape. `https=True` serves TLS with a
self-signed certificate for the name `localhost` only; `trust()` is a client context trusting it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import socket
import ssl
import struct
import tempfile
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

Writer = asyncio.StreamWriter


@dataclass
class Request:
    method: str
    path: str  # with its query
    headers: dict[str, str]  # names lower-cased

    @property
    def route(self) -> str:
        return self.path.split("?", 1)[0]


Handler = Callable[[Request, Writer], Awaitable[None]]

REASONS = {
    200: "OK",
    301: "Moved Permanently",
    302: "Found",
    304: "Not Modified",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class FeedServer:
    def __init__(self, *, https: bool = False, host: str = "127.0.0.1"):
        self.routes: dict[str, Handler] = {}
        self.requests: list[Request] = []
        self.broken: list[Request] = []  # responses the client stopped reading (write failed)
        self.server_names: list[str | None] = []  # TLS SNI names the clients sent
        self._https = https
        self._host = host
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    async def __aenter__(self) -> FeedServer:
        context = _server_context(self.server_names) if self._https else None
        self._server = await asyncio.start_server(self._serve, self._host, 0, ssl=context)
        return self

    async def __aexit__(self, *exc) -> None:
        self._server.close()
        for task in list(self._tasks):  # a dripping handler would otherwise outlive the test
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    @property
    def port(self) -> int:
        return self._server.sockets[0].getsockname()[1]

    def url(self, path: str = "/", host: str | None = None) -> str:
        host = host or (f"[{self._host}]" if ":" in self._host else self._host)
        return f"{'https' if self._https else 'http'}://{host}:{self.port}{path}"

    def route(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    def count(self, path: str | None = None) -> int:
        return sum(1 for r in self.requests if path is None or r.route == path)

    async def wait_broken(self, timeout: float = 3.0) -> bool:
        """Whether some response was cut off by the client within `timeout` seconds."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while not self.broken:
                    await asyncio.sleep(0.02)
        return bool(self.broken)

    async def _serve(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        task = asyncio.current_task()
        self._tasks.add(task)
        request = None
        try:
            request = await _read_request(reader)
            if request is None:
                return
            self.requests.append(request)
            await self.routes.get(request.route, respond(404, b"no such route"))(request, writer)
        except (ConnectionError, OSError):
            if request is not None:
                self.broken.append(request)
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return Request(method, path, headers)


def _head(status: int, headers: dict[str, str] | None = None, length: int | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Whatever')}", "Connection: close"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


# ---- behaviours -------------------------------------------------------------------------------


def respond(status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None) -> Handler:
    """An ordinary answer."""

    async def handler(request: Request, writer: Writer) -> None:
        writer.write(_head(status, headers, len(body)) + body)
        await writer.drain()

    return handler


def sequence(*handlers: Handler) -> Handler:
    """The n-th request gets the n-th handler; the last one answers every request after."""
    calls = 0

    async def handler(request: Request, writer: Writer) -> None:
        nonlocal calls
        calls += 1
        await handlers[min(calls, len(handlers)) - 1](request, writer)

    return handler


def late(delay: float, then: Handler) -> Handler:
    """`then`, after `delay` seconds: whoever asked is certainly waiting meanwhile."""

    async def handler(request: Request, writer: Writer) -> None:
        await asyncio.sleep(delay)
        await then(request, writer)

    return handler


def redirect(location: str, status: int = 302) -> Handler:
    return respond(status, b"", {"Location": location})


def conditional(body: bytes, etag: str, last_modified: str) -> Handler:
    """200 with validators, or 304 when If-None-Match names the current ETag."""

    async def handler(request: Request, writer: Writer) -> None:
        validators = {"ETag": etag, "Last-Modified": last_modified}
        if request.headers.get("if-none-match") == etag:
            writer.write(_head(304, validators))
        else:
            writer.write(_head(200, validators, len(body)) + body)
        await writer.drain()

    return handler


def in_parts(body: bytes, parts: int, pause: float) -> Handler:
    """The whole body, in `parts` pieces `pause` seconds apart: a run reading it commits its
    batches over a while, not all at once."""

    async def handler(request: Request, writer: Writer) -> None:
        writer.write(_head(200, {"Content-Type": "application/json"}, len(body)))
        size = -(-len(body) // parts)
        for start in range(0, len(body), size):
            writer.write(body[start : start + size])
            await writer.drain()
            await asyncio.sleep(pause)

    return handler


def drip(interval: float = 1.0) -> Handler:
    """Headers at once, then one byte of the body every `interval` seconds, for ever."""

    async def handler(request: Request, writer: Writer) -> None:
        writer.write(_head(200, {"Content-Type": "application/json"}, 10_000))
        while True:
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(interval)

    return handler


def hang() -> Handler:
    """Reads the request and never answers."""

    async def handler(request: Request, writer: Writer) -> None:
        await asyncio.sleep(3600)

    return handler


def close_before_response() -> Handler:
    """Reads the request and closes the connection without a word."""

    async def handler(request: Request, writer: Writer) -> None:
        return None

    return handler


def reset_mid_body(sent: int = 1000, declared: int = 100_000) -> Handler:
    """Declares `declared` bytes, sends `sent` of them, then resets the connection (RST)."""

    async def handler(request: Request, writer: Writer) -> None:
        writer.write(_head(200, {"Content-Type": "application/json"}, declared) + b"[" * sent)
        await writer.drain()
        await asyncio.sleep(0.2)  # let the client read what was sent
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    return handler


def endless(chunk: bytes = b"x" * 65536, gzipped: bool = False) -> Handler:
    """A body with no length that never ends, written as fast as the client reads.

    With `gzipped`, a gzip bomb: the same ~1 KiB deflate block, each one inflating to 1 MiB of
    zeros, repeated for ever (each block ends with a full flush, so they are all identical).
    """
    head = _head(200, {"Content-Encoding": "gzip"} if gzipped else None)
    if gzipped:
        deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        block = deflate.compress(bytes(1 << 20)) + deflate.flush(zlib.Z_FULL_FLUSH)
        chunk = block * 64  # ~64 KiB on the wire, 64 MiB decoded
        head += b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # gzip header, then raw deflate

    async def handler(request: Request, writer: Writer) -> None:
        writer.write(head)
        while True:
            writer.write(chunk)
            await writer.drain()

    return handler


def gzipped(body: bytes, headers: dict[str, str] | None = None) -> Handler:
    return respond(200, gzip.compress(body), {"Content-Encoding": "gzip", **(headers or {})})


def http_date(seconds_from_now: float) -> str:
    return formatdate(time.time() + seconds_from_now, usegmt=True)


# ---- TLS --------------------------------------------------------------------------------------

# Self-signed, for DNS:localhost only (no IP address), valid until 2126. Test use only.
CERT = """-----BEGIN CERTIFICATE-----
MIIBljCCATugAwIBAgIUW4hUryOyiPcECRBp2DKeb5Gr+6owCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyNTEwMzY1NFoYDzIxMjYxMTAx
MTAzNjU0WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAASoY7hyzxALpauXkcJ/HVy8/mLiEGX26ea0jQcNRt/gINAkV9Isjdq5
PDaQyebPS8Twq2pm5xHRLNAr4Ei0zn70o2kwZzAdBgNVHQ4EFgQU33Mw4kZ369xo
o1WUbX6a5aQany0wHwYDVR0jBBgwFoAU33Mw4kZ369xoo1WUbX6a5aQany0wDwYD
VR0TAQH/BAUwAwEB/zAUBgNVHREEDTALgglsb2NhbGhvc3QwCgYIKoZIzj0EAwID
SQAwRgIhAIHo/KaOJ24PRRENFmaKuVp/31SuEneZCA/3PYGAScwJAiEAhzuYN+40
kQTL3kAokYPFpFrb7L5SvDyIzutqdZFV80c=
-----END CERTIFICATE-----
"""
KEY = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgOrwi6sONg26ZaB4S
+tv7IiGLSI2eMu3ZxVdx0UXF31ehRANCAASoY7hyzxALpauXkcJ/HVy8/mLiEGX2
6ea0jQcNRt/gINAkV9Isjdq5PDaQyebPS8Twq2pm5xHRLNAr4Ei0zn70
-----END PRIVATE KEY-----
"""


def trust() -> ssl.SSLContext:
    """A client context that trusts the test certificate (and nothing else)."""
    return ssl.create_default_context(cadata=CERT)


def _server_context(server_names: list[str | None]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as folder:  # load_cert_chain reads files only
        cert, key = Path(folder, "cert.pem"), Path(folder, "key.pem")
        cert.write_text(CERT)
        key.write_text(KEY)
        context.load_cert_chain(cert, key)
    context.sni_callback = lambda _socket, name, _context: server_names.append(name)
    return context
