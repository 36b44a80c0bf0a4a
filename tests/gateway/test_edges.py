"""What a lean data plane must get right, tried on raw sockets: chunked bodies both ways,
`Connection: close` from either side, upstreams dropping kept-alive connections, HEAD,
100-continue, large bodies, slow clients, pipelining and malformed requests (answered 400 or the
like, never a crash or a hang). The upstream is a real aiohttp server of our own; Redis is real."""

from __future__ import annotations

import asyncio
import io
import json
import time

import aiohttp
import httptools
import pytest
from aiohttp import web

from gateway.app import Gateway
from tests.gateway.test_gateway import gateway_settings

BIG = 3 * 1024 * 1024
READ_TIMEOUT = 5.0
SEEN: dict[str, list] = {"connections": [], "requests": []}  # per test: what the upstream saw


async def echo(request: web.Request) -> web.StreamResponse:
    tail = request.path.rsplit("/", 1)[-1]
    transport = request.transport
    SEEN["requests"].append((request.method, request.path_qs, id(transport)))
    count = sum(1 for _, _, t in SEEN["requests"] if t == id(transport))
    if tail == "drop-reused" and count > 1:  # a kept-alive connection dies under the next request
        transport.close()
        return web.Response()
    body = await request.read()
    if tail == "chunked":
        response = web.StreamResponse(headers={"X-Upstream": "chunked"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for part in (b"first,", b"second,", b"third"):
            await response.write(part)
        await response.write_eof()
        return response
    if tail == "stall":  # the head and a little of the body, then nothing
        response = web.StreamResponse(headers={"Content-Length": "100"})
        await response.prepare(request)
        await response.write(b"0123456789")
        await asyncio.sleep(3)
        return response
    if tail == "big":
        return web.Response(body=b"z" * BIG, content_type="application/octet-stream")
    if tail == "close":
        response = web.json_response({"connection": id(transport)})
        response.force_close()  # Connection: close, then the connection ends
        return response
    return web.json_response({"method": request.method, "path_qs": request.path_qs, "size": len(body),
                              "content_length": request.headers.get("Content-Length"),
                              "transfer_encoding": request.headers.get("Transfer-Encoding"),
                              "expect": request.headers.get("Expect"), "tail": body[-8:].decode(errors="replace"),
                              "connection": id(transport)},
                             status=201 if request.method == "POST" else 200)


@pytest.fixture(autouse=True)
def clean_seen():
    SEEN["requests"].clear()


async def _upstream(keepalive_timeout: float = 75.0):
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", echo)
    runner = web.AppRunner(app, keepalive_timeout=keepalive_timeout, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]


@pytest.fixture
async def start_gateway():
    """start(keepalive_timeout=..., **settings) -> (gateway port, gateway)."""
    made = []

    async def start(upstream_keepalive: float = 75.0, **overrides):
        runner, upstream_port = await _upstream(upstream_keepalive)
        overrides.setdefault("rate_limit_enabled", False)
        gateway = Gateway(gateway_settings(upstream_port, **overrides))
        port = await gateway.start("127.0.0.1", 0)
        made.append((gateway, runner))
        return port, gateway

    yield start
    for gateway, runner in made:
        await gateway.stop()
        await runner.cleanup()


class Responses:
    """Responses read off a raw connection with httptools (HEAD is not for this reader)."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.done: list[dict] = []
        self.current: dict | None = None

    def on_message_begin(self) -> None:
        self.current = {"headers": {}, "body": b""}

    def on_header(self, name: bytes, value: bytes) -> None:
        self.current["headers"][name.decode().lower()] = value.decode()

    def on_headers_complete(self) -> None:
        self.current["status"] = self.parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        self.current["body"] += body

    def on_message_complete(self) -> None:
        self.done.append(self.current)

    async def read(self, reader: asyncio.StreamReader, count: int) -> list[dict]:
        """`count` responses, or fewer when the connection ends; fails the test after READ_TIMEOUT."""
        async with asyncio.timeout(READ_TIMEOUT):
            while len(self.done) < count:
                data = await reader.read(65536)
                if not data:  # the end of the connection ends a body without a length
                    if self.current is not None and "status" in self.current and self.current not in self.done:
                        self.done.append(self.current)
                    break
                self.parser.feed_data(data)
        found, self.done = self.done[:count], self.done[count:]
        return found


async def raw(port: int, data: bytes, count: int = 1) -> tuple[list[dict], bool]:
    """Send `data`, read `count` responses; also whether the gateway then closed the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        responses = await Responses().read(reader, count)
        closed = await _closed(reader)
    finally:
        writer.close()
    return responses, closed


async def _closed(reader: asyncio.StreamReader, wait: float = 0.5) -> bool:
    try:
        return await asyncio.wait_for(reader.read(1), wait) == b""
    except TimeoutError:
        return False
    except ConnectionError:
        return True


def body_of(response: dict) -> dict:
    return json.loads(response["body"])


# -- chunked bodies ----------------------------------------------------------------------------

async def test_a_chunked_request_body_reaches_the_service_whole_with_a_length(start_gateway):
    port, _ = await start_gateway()
    request = (b"POST /app-api/content/items HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    [response], closed = await raw(port, request)
    sent = body_of(response)
    assert response["status"] == 201 and not closed
    assert sent["size"] == 11 and sent["tail"] == "lo world"
    assert sent["content_length"] == "11" and sent["transfer_encoding"] is None


async def test_a_chunked_response_is_streamed_chunked_to_http11_and_close_delimited_to_http10(start_gateway):
    port, _ = await start_gateway()
    [response], closed = await raw(port, b"GET /app-api/content/chunked HTTP/1.1\r\nHost: x\r\n\r\n")
    assert response["status"] == 200 and response["body"] == b"first,second,third"
    assert response["headers"]["transfer-encoding"] == "chunked" and "content-length" not in response["headers"]
    assert response["headers"]["x-upstream"] == "chunked" and not closed
    [old], closed = await raw(port, b"GET /app-api/content/chunked HTTP/1.0\r\nHost: x\r\n\r\n")
    assert old["body"] == b"first,second,third" and "transfer-encoding" not in old["headers"]
    assert old["headers"]["connection"] == "close" and closed


# -- Connection: close, kept-alive connections that die -----------------------------------------

async def test_connection_close_from_the_client_is_honoured_after_the_response(start_gateway):
    port, _ = await start_gateway()
    [response], closed = await raw(port, b"GET /app-api/content/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert response["status"] == 200 and response["headers"]["connection"] == "close" and closed
    [kept], closed = await raw(port, b"GET /app-api/content/x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    assert kept["status"] == 200 and kept["headers"]["connection"] == "keep-alive" and not closed


async def test_connection_close_from_the_upstream_ends_only_that_upstream_connection(start_gateway):
    port, _ = await start_gateway()
    requests = b"GET /app-api/content/close HTTP/1.1\r\nHost: x\r\n\r\n" * 3
    responses, closed = await raw(port, requests, count=3)
    assert [r["status"] for r in responses] == [200, 200, 200] and not closed, "the client keeps its connection"
    assert all("connection" not in r["headers"] for r in responses)
    assert len({body_of(r)["connection"] for r in responses}) == 3, "a fresh upstream connection each time"


async def test_an_upstream_closing_idle_kept_alive_connections_costs_no_request(start_gateway):
    port, _ = await start_gateway(upstream_keepalive=0.05)
    async with aiohttp.ClientSession() as session:
        for method in ("GET", "POST", "GET", "POST"):
            async with session.request(method, f"http://127.0.0.1:{port}/app-api/content/k") as response:
                assert response.status in (200, 201)
            await asyncio.sleep(0.2)  # the upstream has closed its side by now
    assert len(SEEN["requests"]) == 4, "each request reached the upstream exactly once"


async def test_a_kept_alive_connection_dying_under_a_request_retries_get_on_a_fresh_one_but_never_post(
        start_gateway, tokens):
    port, _ = await start_gateway(gateway_get_retries=0)
    base = f"http://127.0.0.1:{port}/app-api/content/drop-reused"
    async with aiohttp.ClientSession() as session:
        async with session.get(base) as first:
            assert first.status == 200  # the upstream connection is now kept alive in the pool
        async with session.get(base + "?again") as second:  # dropped on the reused connection, retried fresh
            assert second.status == 200
        dropped_get = [r for r in SEEN["requests"] if r[1] == "/app-api/content/drop-reused?again"]
        assert len(dropped_get) == 2 and dropped_get[0][2] != dropped_get[1][2]
        async with session.post(base + "?post", headers=tokens["member"]) as post:
            assert post.status == 502 and (await post.json())["error"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert len([r for r in SEEN["requests"] if r[1] == "/app-api/content/drop-reused?post"]) == 1, \
        "a POST the upstream may have acted on is never sent twice"


# -- HEAD, 100-continue ------------------------------------------------------------------------

async def test_head_gets_the_headers_without_a_body_and_the_connection_goes_on(start_gateway):
    port, _ = await start_gateway()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"HEAD /app-api/content/big HTTP/1.1\r\nHost: x\r\n\r\n")
        async with asyncio.timeout(READ_TIMEOUT):
            head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and b"\r\nContent-Length: %d\r\n" % BIG in head
        assert await _closed(reader, 0.3) is False and reader._buffer == b"", "no body after a HEAD response"
        writer.write(b"GET /app-api/content/after-head HTTP/1.1\r\nHost: x\r\n\r\n")
        [after] = await Responses().read(reader, 1)
        assert after["status"] == 200 and body_of(after)["path_qs"] == "/app-api/content/after-head"
    finally:
        writer.close()
    assert [r[0] for r in SEEN["requests"]] == ["HEAD", "GET"]


async def test_expect_100_continue_gets_continue_then_the_answer_and_too_large_gets_413_at_once(start_gateway):
    port, _ = await start_gateway(gateway_max_body_bytes=1000)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"POST /app-api/content/e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                     b"Expect: 100-continue\r\n\r\n")
        async with asyncio.timeout(READ_TIMEOUT):
            assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(b"12345")
        [answer] = await Responses().read(reader, 1)
        assert answer["status"] == 201 and body_of(answer)["size"] == 5 and body_of(answer)["expect"] is None
    finally:
        writer.close()
    [refused], closed = await raw(port, b"POST /app-api/content/e HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n"
                                        b"Expect: 100-continue\r\nAccept-Language: en\r\n\r\n")
    assert refused["status"] == 413 and body_of(refused)["error"]["code"] == "PAYLOAD_TOO_LARGE" and closed
    assert len(SEEN["requests"]) == 1


# -- large bodies --------------------------------------------------------------------------------

async def test_large_bodies_within_the_cap_pass_whole_and_beyond_it_get_413(start_gateway, tokens):
    cap = 2 * 1024 * 1024
    port, _ = await start_gateway(gateway_max_body_bytes=cap)
    url = f"http://127.0.0.1:{port}/app-api/content/upload"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=io.BytesIO(b"a" * (cap - 1) + b"Z"), headers=tokens["member"]) as response:
            assert response.status == 201
            sent = await response.json()
            assert sent["size"] == cap and sent["tail"].endswith("aZ")

        async def chunks():  # chunked, no length: the cap is counted as it comes
            for _ in range(3):
                yield b"b" * (cap // 2)

        async with session.post(url, data=chunks(), headers=tokens["member"]) as response:
            assert response.status == 413 and (await response.json())["error"]["code"] == "PAYLOAD_TOO_LARGE"
        async with session.get(f"http://127.0.0.1:{port}/app-api/content/big") as response:
            assert response.status == 200 and await response.read() == b"z" * BIG
    assert [r[1] for r in SEEN["requests"]] == ["/app-api/content/upload", "/app-api/content/big"]


# -- slow clients ----------------------------------------------------------------------------------

async def test_a_client_sending_slowly_is_served_and_one_that_stalls_gets_408_without_holding_others(start_gateway):
    port, _ = await start_gateway(gateway_client_timeout_seconds=1.0)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = b"POST /app-api/content/slow-sender HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd"
    for i in range(0, len(request), 7):  # a byte at a time would take long: 7 bytes every 20 ms
        writer.write(request[i:i + 7])
        await asyncio.sleep(0.02)
    [served] = await Responses().read(reader, 1)
    assert served["status"] == 201 and body_of(served)["size"] == 4
    writer.close()

    stalled_reader, stalled = await asyncio.open_connection("127.0.0.1", port)
    stalled.write(b"POST /app-api/content/stalled HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part")
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:  # meanwhile everyone else is served at once
        async with session.get(f"http://127.0.0.1:{port}/app-api/content/other") as other:
            assert other.status == 200 and time.monotonic() - started < 0.5
    [timed_out] = await Responses().read(stalled_reader, 1)
    assert timed_out["status"] == 408 and body_of(timed_out)["error"]["code"] == "REQUEST_TIMEOUT"
    assert 0.9 < time.monotonic() - started < 3.5 and await _closed(stalled_reader)
    stalled.close()
    assert "/app-api/content/stalled" not in [r[1] for r in SEEN["requests"]]


async def test_a_client_reading_a_large_response_slowly_holds_up_no_one_and_gets_it_whole(start_gateway):
    port, _ = await start_gateway()
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1024)
    writer.transport.set_write_buffer_limits(0)
    writer.write(b"GET /app-api/content/big HTTP/1.1\r\nHost: x\r\n\r\n")
    await asyncio.sleep(0.3)  # reads nothing yet: the gateway must hold the rest back, not block
    async with aiohttp.ClientSession() as session:
        started = time.monotonic()
        for _ in range(5):
            async with session.get(f"http://127.0.0.1:{port}/app-api/content/meanwhile") as response:
                assert response.status == 200
        assert time.monotonic() - started < 1.0
    [big] = await Responses().read(reader, 1)
    assert big["status"] == 200 and len(big["body"]) == BIG
    writer.close()


# -- pipelining ------------------------------------------------------------------------------------

async def test_pipelined_requests_are_answered_in_order(start_gateway):
    port, _ = await start_gateway()
    requests = (b"GET /app-api/content/one HTTP/1.1\r\nHost: x\r\n\r\n"
                b"POST /app-api/content/two HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                b"GET /app-api/content/chunked HTTP/1.1\r\nHost: x\r\n\r\n"
                b"GET /app-api/nowhere/x HTTP/1.1\r\nHost: x\r\n\r\n"
                b"GET /app-api/content/four HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    responses, closed = await raw(port, requests, count=5)
    assert [r["status"] for r in responses] == [200, 201, 200, 404, 200] and closed
    assert body_of(responses[0])["path_qs"] == "/app-api/content/one"
    assert body_of(responses[1])["tail"] == "abc"
    assert responses[2]["body"] == b"first,second,third"
    assert body_of(responses[3])["error"]["code"] == "ROUTE_NOT_FOUND"
    assert body_of(responses[4])["path_qs"] == "/app-api/content/four"


# -- malformed requests ----------------------------------------------------------------------------

@pytest.mark.parametrize("request_bytes", [
    b"GARBAGE\r\n\r\n",
    b"GET /app-api/content/x HTTP/1.1\r\nBad Header Name: 1\r\n\r\n",
    b"GET /app-api/content/x HTTP/9.9\r\nHost: x\r\n\r\n",
    b"POST /app-api/content/x HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
    b"POST /app-api/content/x HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    b"POST /app-api/content/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    b"POST /app-api/content/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    b"GET /app-api/content/x\x00 HTTP/1.1\r\n\r\n",
    b"GET /app-api/content/x HTTP/1.1\r\nHost: x\r\nX-Split: a\r\n b\r\n\r\n",
])
async def test_malformed_requests_get_400_and_the_connection_closes(start_gateway, request_bytes):
    port, _ = await start_gateway()
    [response], closed = await raw(port, request_bytes)
    assert response["status"] == 400 and closed
    assert body_of(response)["error"]["code"] == "MALFORMED_REQUEST"
    assert response["headers"]["x-request-id"]
    assert SEEN["requests"] == []
    [fine], _ = await raw(port, b"GET /app-api/content/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert fine["status"] == 200, "the gateway goes on serving"


async def test_oversized_heads_get_431_and_a_request_cut_off_midway_leaves_nothing_behind(start_gateway):
    port, gateway = await start_gateway(gateway_max_header_bytes=4096)
    [response], closed = await raw(port, b"GET /app-api/content/x HTTP/1.1\r\nX-Big: " + b"a" * 5000 + b"\r\n\r\n")
    assert response["status"] == 431 and body_of(response)["error"]["code"] == "HEADERS_TOO_LARGE" and closed
    [response], closed = await raw(port, b"GET /app-api/content/" + b"p" * 5000 + b" HTTP/1.1\r\n\r\n")
    assert response["status"] == 431 and closed
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /app-api/content/cut HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")
    await writer.drain()
    writer.close()
    await asyncio.sleep(0.1)
    assert SEEN["requests"] == [] and not any(c.parsing for c in gateway.connections)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/app-api/content/x", headers={"Accept-Language": "en"}) as r:
            assert r.status == 200


async def test_an_upstream_stalling_mid_body_gets_the_client_connection_cut_at_the_timeout(start_gateway):
    port, gateway = await start_gateway(gateway_route_timeouts={"/app-api/content/stall": 0.5})
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    writer.write(b"GET /app-api/content/stall HTTP/1.1\r\nHost: x\r\n\r\n")
    received = b""
    async with asyncio.timeout(READ_TIMEOUT):
        while chunk := await _read_or_reset(reader):
            received += chunk
    writer.close()
    assert received.startswith(b"HTTP/1.1 200") and received.endswith(b"0123456789"), received
    assert 0.4 < time.monotonic() - started < 2.0, "cut at the route's timeout, not left hanging"
    assert not gateway.in_flight


async def _read_or_reset(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.read(65536)
    except ConnectionError:
        return b""


async def test_a_client_that_half_closes_after_its_requests_still_gets_every_answer(start_gateway):
    port, _ = await start_gateway()
    for request in (b"GET /app-api/content/a HTTP/1.1\r\nHost: x\r\n\r\nGET /app-api/content/b HTTP/1.1\r\n\r\n",
                    b"BROKEN\r\n\r\n"):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        writer.write_eof()  # shutdown(SHUT_WR): nothing more is coming
        responses = await Responses().read(reader, 2)
        writer.close()
        if request.startswith(b"GET"):
            assert [body_of(r)["path_qs"] for r in responses] == ["/app-api/content/a", "/app-api/content/b"]
        else:
            assert [r["status"] for r in responses] == [400]
