"""Statements counted on the wire: a TCP relay between a server and PostgreSQL that reads what
the client sends (the frontend side of the PostgreSQL protocol, version 3) and forwards every
byte unchanged.

A statement is a simple `Query` message or an `Execute` of the extended protocol; each is
counted by its first keyword (`SELECT`, `BEGIN`, `ROLLBACK`, …), taken from the query text, or
for an `Execute`, from the `Parse` of the prepared statement its portal was bound to. A
`Parse` alone (preparing, not running) is counted apart. This is what PostgreSQL itself is
asked to run, whoever asks: the driver, the pool or the server's own code.

Only for a counting pass outside the measured windows: the relay costs CPU of its own.
"""

import asyncio
import struct
from collections import Counter

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104


def keyword(sql: str) -> str:
    """`SELECT` for `select …`; an empty statement (`;`, a driver's ping) as `(empty)`."""
    words = sql.split(None, 1)
    return (words[0].upper().rstrip(";") if words else "") or "(empty)"


class FrontendParser:
    """Reads one connection's client-to-server bytes as they come, in any chunks."""

    def __init__(self, counts: Counter[str]):
        self.counts = counts
        self.buffer = b""
        self.started = False  # the untyped startup message has gone by
        self.prepared: dict[bytes, str] = {}  # statement name -> its SQL
        self.portals: dict[bytes, str] = {}  # portal name -> the SQL bound to it

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if not self.started:
                if len(self.buffer) < 8:
                    return
                (length, code) = struct.unpack("!ii", self.buffer[:8])
                if len(self.buffer) < length:
                    return
                self.buffer = self.buffer[length:]
                # An SSL or GSS request comes first and is answered with one byte; the startup
                # message (or a cancel request) follows, untyped as well.
                self.started = code not in (SSL_REQUEST, GSSENC_REQUEST)
                continue
            if len(self.buffer) < 5:
                return
            kind = self.buffer[:1]
            (length,) = struct.unpack("!i", self.buffer[1:5])
            if len(self.buffer) < 1 + length:
                return
            body, self.buffer = self.buffer[5 : 1 + length], self.buffer[1 + length :]
            self._message(kind, body)

    def _message(self, kind: bytes, body: bytes) -> None:
        if kind == b"Q":  # Query: the SQL, NUL-terminated
            self.counts[keyword(body.split(b"\0", 1)[0].decode())] += 1
        elif kind == b"P":  # Parse: statement name, SQL, parameter types
            name, sql = body.split(b"\0", 2)[:2]
            self.prepared[name] = sql.decode()
            self.counts["(parse)"] += 1
        elif kind == b"B":  # Bind: portal name, statement name, …
            portal, statement = body.split(b"\0", 2)[:2]
            self.portals[portal] = self.prepared.get(statement, "(unknown)")
        elif kind == b"E":  # Execute: portal name, row limit
            portal = body.split(b"\0", 1)[0]
            self.counts[keyword(self.portals.get(portal, "(unknown)"))] += 1
        elif kind == b"C" and body[:1] == b"S":  # Close of a prepared statement
            self.prepared.pop(body[1:].split(b"\0", 1)[0], None)


class StatementRelay:
    """Listens on a free loopback port; every connection is relayed to PostgreSQL at
    `host:port` and its statements are added to `counts`."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.counts: Counter[str] = Counter()
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task] = set()

    @property
    def listen_port(self) -> int:
        return self.server.sockets[0].getsockname()[1]

    async def __aenter__(self) -> "StatementRelay":
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def statements(self) -> int:
        return sum(n for kind, n in self.counts.items() if kind != "(parse)")

    async def _relay(self, client_reader, client_writer) -> None:
        self.tasks.add(task := asyncio.current_task())
        try:
            server_reader, server_writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            client_writer.close()
            return
        parser = FrontendParser(self.counts)

        async def pump(reader, writer, watch) -> None:
            try:
                while data := await reader.read(65536):
                    if watch:
                        parser.feed(data)
                    writer.write(data)
                    await writer.drain()
            except ConnectionError:
                pass
            finally:
                writer.close()

        try:
            await asyncio.gather(
                pump(client_reader, server_writer, True), pump(server_reader, client_writer, False)
            )
        finally:
            self.tasks.discard(task)
