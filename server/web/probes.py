"""`alliance worker`'s port of its own: `/healthz` while the process lives and `/metrics` with
its runs, so that a process manager can probe a worker and Prometheus scrape it, as it does an
API process (docs/operations.md, "Health, readiness, metrics").

Two answers, no request body, one request per connection: asyncio's own server is enough, and
it leaves the worker's signal handling to the worker (uvicorn would take SIGTERM for itself).
"""

import asyncio
import logging

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

log = logging.getLogger("alliance.probes")
TIMEOUT = 5.0  # for the request line and headers: a client that sends nothing is let go
MAX_HEADER_LINES = 100


def _answer(path: str) -> tuple[str, str, bytes]:
    if path == "/healthz":
        return "200 OK", "application/json", b'{"status":"ok"}'
    if path == "/metrics":
        return "200 OK", CONTENT_TYPE_LATEST, generate_latest()
    return "404 Not Found", "application/json", b'{"error":"only /healthz and /metrics"}'


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        async with asyncio.timeout(TIMEOUT):
            request_line = await reader.readline()
            for _ in range(MAX_HEADER_LINES):
                if await reader.readline() in (b"\r\n", b"\n", b""):
                    break
        method, target, _ = request_line.decode("latin-1").split(" ", 2)
        status, media_type, body = _answer(target.split("?", 1)[0])
        if method != "GET":
            status, media_type, body = "405 Method Not Allowed", "application/json", b"{}"
        head = (
            f"HTTP/1.1 {status}\r\nContent-Type: {media_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode("latin-1") + body)
        await writer.drain()
    except (TimeoutError, ValueError, ConnectionError):
        pass  # a client that sent no request, a malformed one, or went away
    finally:
        writer.close()


async def serve(host: str, port: int) -> asyncio.Server:
    """Listen on `host:port` (0: a free port), and say where."""
    server = await asyncio.start_server(_handle, host, port)
    bound = server.sockets[0].getsockname()[1]
    log.info("probes on http://%s:%s/healthz and /metrics", host, bound, extra={"port": bound})
    return server
