"""sync.fetch against a real HTTP server on loopback that misbehaves on purpose.

Each fault test asserts the exception, that the fetch ended within a generous bound (a
behavioural bound such as "the deadline stopped it", not a benchmark), and how many requests the
server saw. httpx.MockTransport appears only where loopback cannot shape the fault: a public
address that redirects to a private one, and proving that nothing is sent at all.
"""

import asyncio
import gzip
import random
import socket
import ssl
import time
import tracemalloc

import httpx
import pytest

from sync import fetch as fetch_module
from sync.errors import DeadlineExceeded, FetchError, HttpStatusError, Refused, TooLarge
from sync.fetch import Fetched, Limits, Policy, fetch
from tests.sync.feedserver import (
    FeedServer,
    close_before_response,
    conditional,
    drip,
    endless,
    gzipped,
    hang,
    http_date,
    redirect,
    reset_mid_body,
    respond,
    sequence,
    trust,
)

LOOPBACK = Policy(allow_private=True)
# Quick retries so that fault tests spend their time only where the fault itself takes it.
QUICK = Limits(connect_timeout=2, read_timeout=5, deadline=10, backoff=0.01, backoff_max=0.05)
MiB = 1024 * 1024


def streamed(status: int, body: bytes) -> httpx.Response:
    """A response whose body is still to be read, as one from the network is: sync.fetch reads
    the raw bytes itself (`sync.bodies`)."""
    return httpx.Response(status, stream=httpx.ByteStream(body))


class Recorder:
    """A transport that answers from a function and remembers what it was asked."""

    def __init__(self, answer=None):
        self.requests: list[httpx.Request] = []
        self._answer = answer or (lambda request: streamed(200, b"mock"))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self._answer(request)


def mock_client(recorder: Recorder) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(recorder), trust_env=False)


def read(fetched: Fetched) -> bytes:
    with fetched.body as body:
        return body.read()


def one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


# ---- the good paths ----------------------------------------------------------------------------


async def test_good_feed_is_fetched_with_its_validators(server, client):
    body = b'{"format": "alliance-feed/1", "items": []}'
    validators = {"ETag": '"v1"', "Last-Modified": "Tue, 24 Nov 2026 08:00:00 GMT"}
    server.route("/feed.json", respond(200, body, validators))

    fetched = await fetch(
        client,
        server.url("/feed.json"),
        headers={"X-Feed-Token": "t"},
        limits=QUICK,
        policy=LOOPBACK,
    )

    assert (fetched.status, fetched.url, fetched.bytes, fetched.attempts) == (
        200,
        server.url("/feed.json"),
        len(body),
        1,
    )
    assert (fetched.etag, fetched.last_modified) == ('"v1"', "Tue, 24 Nov 2026 08:00:00 GMT")
    assert read(fetched) == body
    [request] = server.requests
    assert request.headers["host"] == f"127.0.0.1:{server.port}"
    assert request.headers["x-feed-token"] == "t"
    assert request.headers["accept-encoding"] == "gzip, deflate"
    assert "if-none-match" not in request.headers


async def test_gzip_body_is_decoded_and_a_large_one_round_trips_through_disk(server, client):
    rng = random.Random(7)  # text that compresses, large enough to pass the 1 MiB spool
    body = "\n".join(f'{{"id": "m{i}", "n": {rng.random()}}}' for i in range(120_000)).encode()
    assert len(body) > 3 * MiB
    server.route("/feed.json.gz", gzipped(body))

    fetched = await fetch(client, server.url("/feed.json.gz"), limits=QUICK, policy=LOOPBACK)

    assert fetched.body.tell() == 0
    assert fetched.bytes == len(body)
    assert read(fetched) == body


async def test_not_modified_returns_no_body(server, client):
    server.route("/feed", conditional(b"[1, 2]", '"v7"', "Tue, 24 Nov 2026 08:00:00 GMT"))
    first = await fetch(client, server.url("/feed"), limits=QUICK, policy=LOOPBACK)
    read(first)

    second = await fetch(
        client,
        server.url("/feed"),
        etag=first.etag,
        last_modified=first.last_modified,
        limits=QUICK,
        policy=LOOPBACK,
    )

    assert (second.status, second.body, second.bytes) == (304, None, 0)
    assert (second.etag, second.last_modified) == ('"v7"', "Tue, 24 Nov 2026 08:00:00 GMT")
    assert server.requests[1].headers["if-none-match"] == '"v7"'
    assert server.requests[1].headers["if-modified-since"] == "Tue, 24 Nov 2026 08:00:00 GMT"
    assert server.count() == 2


async def test_redirect_on_the_same_host_is_followed_with_the_callers_headers(server, client):
    server.route("/old", redirect("/new?page=1", 301))
    server.route("/new", respond(200, b"moved"))

    fetched = await fetch(
        client, server.url("/old"), headers={"X-Feed-Token": "t"}, limits=QUICK, policy=LOOPBACK
    )

    assert (fetched.url, read(fetched), fetched.attempts) == (
        server.url("/new?page=1"),
        b"moved",
        1,
    )
    assert [r.path for r in server.requests] == ["/old", "/new?page=1"]
    assert server.requests[1].headers["x-feed-token"] == "t"


async def test_https_is_pinned_to_the_address_but_verified_by_name():
    async with FeedServer(https=True) as tls, httpx.AsyncClient(verify=trust()) as client:
        tls.route("/feed", respond(200, b"secure"))

        # The certificate names only "localhost": this works only if the name (not the IP we
        # connect to) is used for SNI and for checking the certificate.
        fetched = await fetch(
            client, tls.url("/feed", host="localhost"), limits=QUICK, policy=LOOPBACK
        )

        assert read(fetched) == b"secure"
        assert tls.server_names == ["localhost"]
        assert tls.requests[0].headers["host"] == f"localhost:{tls.port}"


async def test_https_certificate_for_another_name_is_rejected_without_retry():
    async with FeedServer(https=True) as tls, httpx.AsyncClient(verify=trust()) as client:
        tls.route("/feed", respond(200, b"secure"))

        with pytest.raises(FetchError) as caught:  # the certificate names localhost, not the IP
            await fetch(client, tls.url("/feed"), limits=QUICK, policy=LOOPBACK)

        assert "certificate" in one_line(caught).lower()
        assert len(tls.server_names) == 1  # one handshake: a bad certificate is not retried
        assert tls.count() == 0


async def test_the_feeds_client_verifies_with_one_shared_context_of_public_roots():
    # given: a feed whose certificate no public root signed, and two clients made for feeds
    async with FeedServer(https=True) as tls, fetch_module.client() as one, fetch_module.client():
        tls.route("/feed", respond(200, b"secure"))

        # then: the feed is refused, by the name the certificate holds too
        with pytest.raises(FetchError) as caught:
            await fetch(one, tls.url("/feed", host="localhost"), limits=QUICK, policy=LOOPBACK)
        assert "certificate" in one_line(caught).lower()
        assert tls.count() == 0

    # and: every client of the process shares the one context, made once
    assert fetch_module.tls() is fetch_module.tls()
    assert fetch_module.tls().verify_mode == ssl.CERT_REQUIRED


# ---- timeouts ----------------------------------------------------------------------------------


async def test_drip_feed_ends_at_the_deadline(server, client):
    server.route("/drip", drip(interval=1.0))
    limits = Limits(read_timeout=30, deadline=2)

    started = time.monotonic()
    with pytest.raises(DeadlineExceeded) as caught:
        await fetch(client, server.url("/drip"), limits=limits, policy=LOOPBACK)
    elapsed = time.monotonic() - started

    assert 1.9 <= elapsed < limits.deadline + 1.5
    assert server.url("/drip") in one_line(caught)
    assert "reading the body" in str(caught.value)
    assert server.count("/drip") == 1


async def test_silent_server_ends_at_the_read_timeout_and_is_retried(server, client):
    server.route("/silent", hang())
    limits = Limits(read_timeout=0.5, deadline=10, retries=1, backoff=0.01)

    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        await fetch(client, server.url("/silent"), limits=limits, policy=LOOPBACK)

    assert type(caught.value) is FetchError
    assert time.monotonic() - started < 2 * 0.5 + 1.5
    assert "ReadTimeout" in one_line(caught) and "after 2 tries" in str(caught.value)
    assert server.count("/silent") == 2


# ---- broken connections --------------------------------------------------------------------------


async def test_reset_mid_body_fails_without_retry(server, client):
    server.route("/reset", reset_mid_body(sent=1000, declared=100_000))

    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        await fetch(client, server.url("/reset"), limits=QUICK, policy=LOOPBACK)

    assert type(caught.value) is FetchError
    assert time.monotonic() - started < 3
    assert "broke after" in one_line(caught)
    assert server.count("/reset") == 1  # bytes of the body had arrived: not retried


async def test_close_before_response_is_retried(server, client):
    server.route("/gone", close_before_response())
    limits = Limits(retries=2, backoff=0.01, deadline=10)

    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        await fetch(client, server.url("/gone"), limits=limits, policy=LOOPBACK)

    assert time.monotonic() - started < 3
    assert "after 3 tries" in one_line(caught)
    assert server.count("/gone") == 3


async def test_connection_refused_is_retried(client):
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    limits = Limits(retries=2, backoff=0.01, deadline=10)

    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        await fetch(client, f"http://127.0.0.1:{port}/feed", limits=limits, policy=LOOPBACK)

    assert type(caught.value) is FetchError
    assert time.monotonic() - started < 3
    message = one_line(caught)
    assert "cannot connect" in message and "after 3 tries" in message


# ---- statuses and retries ------------------------------------------------------------------------


async def test_5xx_is_retried_until_it_succeeds(server, client):
    server.route("/flaky", sequence(respond(500), respond(503), respond(200, b"ok")))

    fetched = await fetch(client, server.url("/flaky"), limits=QUICK, policy=LOOPBACK)

    assert (fetched.status, read(fetched), fetched.attempts) == (200, b"ok", 3)
    assert server.count("/flaky") == 3


async def test_5xx_every_time_fails_with_the_status_after_the_retries(server, client):
    server.route("/down", respond(503, b"down"))
    limits = Limits(retries=2, backoff=0.01, backoff_max=0.05)

    started = time.monotonic()
    with pytest.raises(HttpStatusError) as caught:
        await fetch(client, server.url("/down"), limits=limits, policy=LOOPBACK)

    assert time.monotonic() - started < 3
    assert caught.value.status == 503
    assert "HTTP 503 after 3 tries" in one_line(caught)
    assert server.count("/down") == 3


async def test_429_waits_for_retry_after_seconds(server, client):
    server.route("/busy", sequence(respond(429, b"", {"Retry-After": "1"}), respond(200, b"ok")))

    started = time.monotonic()
    fetched = await fetch(
        client, server.url("/busy"), limits=Limits(backoff=0.01, backoff_max=5), policy=LOOPBACK
    )
    elapsed = time.monotonic() - started

    assert 0.95 <= elapsed < 1 + 1.5  # the wait came from Retry-After, not from the 0.01 backoff
    assert (read(fetched), fetched.attempts) == (b"ok", 2)
    assert server.count("/busy") == 2


async def test_429_waits_for_retry_after_as_an_http_date(server, client):
    later = http_date(2)  # whole seconds: 1 to 2 s from now
    server.route("/busy", sequence(respond(429, b"", {"Retry-After": later}), respond(200, b"ok")))

    started = time.monotonic()
    fetched = await fetch(
        client, server.url("/busy"), limits=Limits(backoff=0.01, backoff_max=5), policy=LOOPBACK
    )

    assert 0.5 <= time.monotonic() - started < 2 + 1.5
    assert (fetched.status, read(fetched), fetched.attempts) == (200, b"ok", 2)
    assert server.count("/busy") == 2


async def test_retry_after_is_capped_by_backoff_max(server, client):
    server.route("/busy", sequence(respond(429, b"", {"Retry-After": "120"}), respond(200, b"ok")))

    started = time.monotonic()
    fetched = await fetch(
        client,
        server.url("/busy"),
        limits=Limits(backoff=0.01, backoff_max=0.2, deadline=10),
        policy=LOOPBACK,
    )

    assert time.monotonic() - started < 0.2 + 1.5
    assert (read(fetched), fetched.attempts) == (b"ok", 2)
    assert server.count("/busy") == 2


async def test_retry_after_past_the_deadline_fails_at_once(server, client):
    server.route("/busy", respond(429, b"", {"Retry-After": "120"}))

    started = time.monotonic()
    with pytest.raises(HttpStatusError) as caught:
        await fetch(
            client, server.url("/busy"), limits=Limits(backoff_max=300, deadline=5), policy=LOOPBACK
        )

    assert time.monotonic() - started < 1.5  # no point sleeping into the deadline
    assert caught.value.status == 429
    assert "HTTP 429 after 1 try" in one_line(caught) and "deadline" in str(caught.value)
    assert server.count("/busy") == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
async def test_4xx_fails_at_once_without_retry(server, client, status):
    server.route("/feed", respond(status, b"no"))

    with pytest.raises(HttpStatusError) as caught:
        await fetch(client, server.url("/feed"), limits=QUICK, policy=LOOPBACK)

    assert caught.value.status == status
    assert f"HTTP {status}" in one_line(caught)
    assert server.count("/feed") == 1


# ---- size ----------------------------------------------------------------------------------------


async def test_endless_body_stops_at_the_size_limit(server, client):
    server.route("/big", endless())
    limits = Limits(max_bytes=1 * MiB, deadline=10)

    started = time.monotonic()
    with pytest.raises(TooLarge) as caught:
        await fetch(client, server.url("/big"), limits=limits, policy=LOOPBACK)

    assert time.monotonic() - started < 3
    assert str(1 * MiB) in one_line(caught)
    assert server.count("/big") == 1
    assert await server.wait_broken()  # the connection was closed, not drained


async def test_declared_oversize_body_is_refused_before_reading(server, client):
    async def declares_100_mib(request, writer):
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n")
        await writer.drain()
        await hang()(request, writer)  # sends nothing more: waiting for it would time out

    server.route("/huge", declares_100_mib)

    started = time.monotonic()
    with pytest.raises(TooLarge) as caught:
        await fetch(
            client,
            server.url("/huge"),
            limits=Limits(max_bytes=MiB, read_timeout=5),
            policy=LOOPBACK,
        )

    assert time.monotonic() - started < 1.5  # well before the read timeout
    assert "Content-Length 104857600" in one_line(caught)
    assert server.count("/huge") == 1


async def test_gzip_bomb_stops_at_the_size_limit(server, client):
    server.route("/bomb", endless(gzipped=True))  # 64 MiB decoded per 64 KiB sent, for ever
    limits = Limits(max_bytes=1 * MiB, deadline=10)

    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(TooLarge):
            await fetch(client, server.url("/bomb"), limits=limits, policy=LOOPBACK)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert time.monotonic() - started < 3
    # Decoding in bounded pieces: one network read of the bomb would be ~64 MiB at once.
    assert peak < 16 * MiB
    assert server.count("/bomb") == 1
    assert await server.wait_broken()


async def test_truncated_gzip_body_fails(server, client):
    whole = gzip.compress(b'{"items": []}' * 1000)
    server.route("/cut", respond(200, whole[: len(whole) // 2], {"Content-Encoding": "gzip"}))

    with pytest.raises(FetchError) as caught:
        await fetch(client, server.url("/cut"), limits=QUICK, policy=LOOPBACK)

    assert "truncated" in one_line(caught)
    assert server.count("/cut") == 1


async def test_unsupported_content_encoding_fails(server, client):
    server.route("/br", respond(200, b"\x1b\x00", {"Content-Encoding": "br"}))

    with pytest.raises(FetchError) as caught:
        await fetch(client, server.url("/br"), limits=QUICK, policy=LOOPBACK)

    assert "unsupported Content-Encoding 'br'" in one_line(caught)
    assert server.count("/br") == 1


# ---- redirects -----------------------------------------------------------------------------------


async def test_redirect_loop_is_named(server, client):
    server.route("/a", redirect("/b"))
    server.route("/b", redirect("/a"))

    with pytest.raises(FetchError) as caught:
        await fetch(client, server.url("/a"), limits=QUICK, policy=LOOPBACK)

    assert "redirect loop" in one_line(caught)
    assert f"{server.url('/a')} → {server.url('/b')} → {server.url('/a')}" in str(caught.value)
    assert server.count() == 2


async def test_too_many_redirects_fail(server, client):
    for n in range(10):
        server.route(f"/r{n}", redirect(f"/r{n + 1}"))

    with pytest.raises(FetchError) as caught:
        await fetch(
            client,
            server.url("/r0"),
            limits=QUICK,
            policy=Policy(allow_private=True, max_redirects=3),
        )

    assert "more than 3 redirects" in one_line(caught)
    assert server.count() == 4


async def test_redirect_to_another_host_is_refused(server, client):
    server.route("/feed", redirect(server.url("/elsewhere", host="localhost")))

    with pytest.raises(Refused) as caught:
        await fetch(client, server.url("/feed"), limits=QUICK, policy=LOOPBACK)

    assert "another host" in one_line(caught)
    assert server.count() == 1


async def test_redirect_to_another_host_when_allowed_drops_the_callers_headers(server, client):
    server.route("/feed", redirect(server.url("/elsewhere", host="localhost")))
    server.route("/elsewhere", respond(200, b"there"))

    fetched = await fetch(
        client,
        server.url("/feed"),
        headers={"Authorization": "Bearer s3"},
        etag='"v1"',
        limits=QUICK,
        policy=Policy(allow_private=True, allow_cross_host_redirects=True),
    )

    assert (fetched.url, read(fetched)) == (server.url("/elsewhere", host="localhost"), b"there")
    first, second = server.requests
    assert first.headers["authorization"] == "Bearer s3"
    assert second.headers["host"] == f"localhost:{server.port}"
    assert "authorization" not in second.headers  # the feed's secret stays with its own host
    assert second.headers["if-none-match"] == '"v1"'


async def test_redirect_to_another_port_is_refused(server, client):
    async with FeedServer() as other:
        server.route("/feed", redirect(other.url("/feed")))

        with pytest.raises(Refused) as caught:
            await fetch(client, server.url("/feed"), limits=QUICK, policy=LOOPBACK)

        assert "another host, port or scheme" in one_line(caught)
        assert (server.count(), other.count()) == (1, 0)


async def test_redirect_to_another_port_when_allowed_goes_without_the_callers_headers(
    server, client
):
    async with FeedServer() as other:
        server.route("/feed", redirect(other.url("/feed")))
        other.route("/feed", respond(200, b"there"))

        fetched = await fetch(
            client,
            server.url("/feed"),
            headers={"X-Feed-Token": "s3"},
            limits=QUICK,
            policy=Policy(allow_private=True, allow_cross_host_redirects=True),
        )

        assert read(fetched) == b"there"
        assert server.requests[0].headers["x-feed-token"] == "s3"
        [second] = other.requests
        assert "x-feed-token" not in second.headers


async def test_redirect_from_https_to_http_goes_without_the_callers_headers(server):
    async with FeedServer(https=True) as tls, httpx.AsyncClient(verify=trust()) as client:
        tls.route("/feed", redirect(server.url("/feed", host="localhost")))
        server.route("/feed", respond(200, b"plain"))

        fetched = await fetch(
            client,
            tls.url("/feed", host="localhost"),
            headers={"Authorization": "Bearer s3"},
            limits=QUICK,
            policy=Policy(allow_private=True, allow_cross_host_redirects=True),
        )

        assert read(fetched) == b"plain"
        assert tls.requests[0].headers["authorization"] == "Bearer s3"
        assert "authorization" not in server.requests[0].headers


async def test_redirect_from_http_to_https_on_the_same_host_keeps_the_callers_headers():
    # Default ports cannot be served on loopback here, so the public host is a MockTransport.
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "http":
            return httpx.Response(301, headers={"Location": "https://93.184.216.34/feed"})
        return streamed(200, b"upgraded")

    recorder = Recorder(answer)
    async with mock_client(recorder) as client:
        fetched = await fetch(
            client, "http://93.184.216.34/feed", headers={"X-Feed-Token": "s3"}, limits=QUICK
        )

    assert read(fetched) == b"upgraded"
    assert [r.headers.get("x-feed-token") for r in recorder.requests] == ["s3", "s3"]


async def test_redirect_to_a_file_url_is_refused(server, client):
    server.route("/feed", redirect("file:///etc/passwd"))

    with pytest.raises(Refused) as caught:
        await fetch(
            client,
            server.url("/feed"),
            limits=QUICK,
            policy=Policy(allow_private=True, allow_cross_host_redirects=True),
        )

    assert "scheme 'file'" in one_line(caught)
    assert server.count() == 1


@pytest.mark.parametrize(
    ("target", "setting"),
    [
        ("http://127.0.0.1:{port}/feed", "allow_private"),
        ("http://169.254.169.254/latest/meta-data/", "allow_link_local"),
        ("http://10.0.0.1/admin", "allow_private"),
    ],
)
async def test_redirect_from_a_public_host_to_a_private_address_is_refused(server, target, setting):
    # A loopback server cannot be the public side of this without allow_private, so the public
    # host is a MockTransport; the private target is the real server, which must hear nothing.
    target = target.format(port=server.port)
    public = Recorder(lambda request: httpx.Response(302, headers={"Location": target}))

    async with mock_client(public) as client:
        with pytest.raises(Refused) as caught:
            await fetch(
                client,
                "http://93.184.216.34/feed",
                limits=QUICK,
                policy=Policy(allow_cross_host_redirects=True),
            )

    assert f"{setting} is off" in one_line(caught)
    assert len(public.requests) == 1
    assert server.count() == 0


# ---- the address guard ---------------------------------------------------------------------------


async def test_loopback_is_refused_before_any_request(server, client):
    server.route("/feed", respond(200, b"never"))

    with pytest.raises(Refused) as caught:
        await fetch(client, server.url("/feed"), limits=QUICK)

    assert "loopback" in one_line(caught) and server.url("/feed") in str(caught.value)
    assert server.count() == 0


async def test_connection_goes_to_the_address_that_was_checked(server, client, monkeypatch):
    # DNS rebinding: a name answers one thing to the guard's lookup and another thing later.
    # Here the later lookups find nothing at all, so only a connection pinned to the address
    # the guard checked can reach the server.
    loop = asyncio.get_running_loop()
    real_getaddrinfo = loop.getaddrinfo
    lookups = []

    async def rebinding(host, port, *args, **kwargs):
        if host != "feed.rebind.test":
            return await real_getaddrinfo(host, port, *args, **kwargs)
        lookups.append(host)
        if len(lookups) > 1:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(loop, "getaddrinfo", rebinding)
    server.route("/feed", respond(200, b"pinned"))

    fetched = await fetch(
        client, server.url("/feed", host="feed.rebind.test"), limits=QUICK, policy=LOOPBACK
    )

    assert (read(fetched), lookups) == (b"pinned", ["feed.rebind.test"])
    assert server.requests[0].headers["host"] == f"feed.rebind.test:{server.port}"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[fd00:ec2::254]/", "metadata"),
        ("http://[::1]/", "loopback"),
        ("http://10.0.0.1/", "private"),
        ("http://172.16.5.4/", "private"),
        ("https://192.168.1.1/", "private"),
        ("http://100.64.0.1/", "CGNAT"),
        ("http://[fd12:3456::1]/", "private"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://[2002:a00:1::]/", "private"),  # 6to4 around 10.0.0.1
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://2130706433/", "loopback"),  # 127.0.0.1 written as one number
        ("http://localhost:8080/", "loopback"),
    ],
)
async def test_private_and_metadata_addresses_are_refused_before_connecting(url, reason):
    recorder = Recorder()
    async with mock_client(recorder) as client:
        with pytest.raises(Refused) as caught:
            await fetch(client, url, limits=QUICK)

    assert reason in one_line(caught)
    assert recorder.requests == []


LINK_LOCAL_AND_METADATA = [
    ("http://169.254.169.254/latest/meta-data/", "metadata"),
    ("http://169.254.170.2/v2/credentials", "metadata"),
    ("http://100.100.100.200/latest/meta-data/", "metadata"),
    ("http://192.0.0.192/opc/v2/instance/", "metadata"),
    ("http://[fd00:ec2::254]/latest/meta-data/", "metadata"),
    ("http://[::ffff:169.254.169.254]/", "metadata"),
    ("http://[64:ff9b::a9fe:a9fe]/", "metadata"),  # NAT64 around 169.254.169.254
    ("http://[2002:a9fe:a9fe::]/", "metadata"),  # 6to4 around 169.254.169.254
    ("http://169.254.1.1/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[::ffff:169.254.1.1]/", "link-local"),
]


@pytest.mark.parametrize(("url", "reason"), LINK_LOCAL_AND_METADATA)
async def test_allow_private_still_refuses_link_local_and_metadata_addresses(url, reason):
    recorder = Recorder()
    async with mock_client(recorder) as client:
        with pytest.raises(Refused) as caught:
            await fetch(client, url, limits=QUICK, policy=LOOPBACK)

    assert reason in one_line(caught) and "allow_link_local is off" in str(caught.value)
    assert recorder.requests == []


@pytest.mark.parametrize(("url", "reason"), LINK_LOCAL_AND_METADATA)
async def test_allow_link_local_opens_link_local_and_metadata_addresses(url, reason):
    recorder = Recorder()
    async with mock_client(recorder) as client:
        fetched = await fetch(client, url, limits=QUICK, policy=Policy(allow_link_local=True))

    assert read(fetched) == b"mock"
    assert len(recorder.requests) == 1


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "http://[::1]/", "http://10.0.0.1/"])
async def test_allow_link_local_alone_does_not_open_private_addresses(url):
    recorder = Recorder()
    async with mock_client(recorder) as client:
        with pytest.raises(Refused) as caught:
            await fetch(client, url, limits=QUICK, policy=Policy(allow_link_local=True))

    assert "allow_private is off" in one_line(caught)
    assert recorder.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/feed.csv",
        "gopher://127.0.0.1:70/",
        "javascript:alert(1)",
        "data:application/json,{}",
    ],
)
async def test_only_http_and_https_are_fetched(url):
    recorder = Recorder()
    async with mock_client(recorder) as client:
        with pytest.raises(Refused) as caught:
            await fetch(client, url, limits=QUICK, policy=LOOPBACK)

    assert "is not http(s)" in one_line(caught)
    assert recorder.requests == []


@pytest.mark.parametrize("url", ["http://93.184.216.34/feed", "http://[2606:4700::1111]/feed"])
async def test_public_address_passes_the_guard_and_is_connected_to_directly(url):
    recorder = Recorder()
    async with mock_client(recorder) as client:
        fetched = await fetch(client, url, limits=QUICK)

    assert (fetched.status, read(fetched), fetched.url) == (200, b"mock", url)
    [request] = recorder.requests
    assert request.url == httpx.URL(url)


async def test_error_messages_hide_credentials_and_query(server, client):
    with pytest.raises(HttpStatusError) as caught:
        await fetch(
            client,
            server.url("/missing?token=abc123").replace("//", "//feed:pw99@"),
            limits=QUICK,
            policy=LOOPBACK,
        )

    message = one_line(caught)
    assert f"http://127.0.0.1:{server.port}/missing?…: HTTP 404" in message
    assert "abc123" not in message and "pw99" not in message
