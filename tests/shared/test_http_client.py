"""shared/http.py's ServiceClient against real sockets: the request as the other service reads it,
kept-alive connections reused (and not when closed by the server or idle too long), chunked
answers, the owner's error body, and every failure (nothing listening, no answer in time, a
malformed answer, a connection cut mid-answer) as 503 DEPENDENCY_UNAVAILABLE."""

from __future__ import annotations

import asyncio
import json

import httptools
import pytest

from shared import http
from shared.http import DependencyUnavailable, Refused, ServiceClient


def answer(status: int, body: dict | None = None, *, close: bool = False, chunked: bool = False) -> bytes:
    content = json.dumps(body).encode() if body is not None else b""
    head = f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n"
    if close:
        head += "connection: close\r\n"
    if chunked:
        half = len(content) // 2
        parts = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in (content[:half], content[half:]) if p)
        return (head + "transfer-encoding: chunked\r\n\r\n").encode() + parts + b"0\r\n\r\n"
    return (head + f"content-length: {len(content)}\r\n\r\n").encode() + content


class Server:
    """A real TCP server parsing each request with httptools; `reply(request)` gives the bytes to
    send back (None: say nothing)."""

    def __init__(self, reply) -> None:
        self.reply, self.requests, self.connections = reply, [], 0
        self.transports: list[asyncio.Transport] = []

    async def __aenter__(self) -> str:
        server = self

        class Connection(asyncio.Protocol):
            def connection_made(self, transport) -> None:
                server.connections += 1
                server.transports.append(transport)
                self.transport, self.parser, self.request = transport, httptools.HttpRequestParser(self), {}

            def on_url(self, url: bytes) -> None:
                self.request = {"url": url.decode(), "headers": {}, "body": b""}

            def on_header(self, name: bytes, value: bytes) -> None:
                self.request["headers"][name.decode().lower()] = value.decode()

            def on_body(self, body: bytes) -> None:
                self.request["body"] += body

            def on_message_complete(self) -> None:
                self.request["method"] = self.parser.get_method().decode()
                server.requests.append(self.request)
                reply = server.reply(self.request)
                if reply is not None:
                    self.transport.write(reply)
                    if b"connection: close" in reply.split(b"\r\n\r\n", 1)[0]:
                        self.transport.close()

            def data_received(self, data: bytes) -> None:
                self.parser.feed_data(data)

        self.server = await asyncio.get_running_loop().create_server(Connection, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *_exc) -> None:
        for transport in self.transports:
            transport.close()
        self.server.close()


async def test_the_request_as_the_other_service_reads_it_and_its_json_answer():
    async with Server(lambda r: answer(200, {"echo": json.loads(r["body"]), "n": "二"})) as url:
        client = ServiceClient("coupon", url + "/", "secret-token")
        try:
            got = await client.post("/internal/coupon/match", {"user_id": 7, "name": "满100减10"}, locale="zh-CN")
            assert got == {"echo": {"user_id": 7, "name": "满100减10"}, "n": "二"}
            assert await client.post("/internal/coupon/holds/5/release") == {"echo": {}, "n": "二"}
        finally:
            await client.close()


async def test_the_request_headers():
    server = Server(lambda r: answer(200, {}))
    async with server as url:
        client = ServiceClient("coupon", url, "secret-token")
        try:
            await client.post("/internal/x", {"a": 1}, locale="zh-CN")
        finally:
            await client.close()
    request = server.requests[0]
    assert (request["method"], request["url"]) == ("POST", "/internal/x")
    assert request["headers"]["authorization"] == "Bearer secret-token"
    assert request["headers"]["content-type"] == "application/json"
    assert request["headers"]["accept-language"] == "zh-CN"
    assert request["headers"]["host"] == url.removeprefix("http://")
    assert json.loads(request["body"]) == {"a": 1}
    server = Server(lambda r: answer(200, {}))
    async with server as url:
        client = ServiceClient("pricing", url, "")  # a public API: no token
        try:
            await client.post("/app-api/x")
        finally:
            await client.close()
    assert "authorization" not in server.requests[0]["headers"]


async def test_kept_alive_connections_are_reused_and_bounded_by_the_pool():
    server = Server(lambda r: answer(200, json.loads(r["body"])))
    async with server as url:
        client = ServiceClient("coupon", url, "t", pool_size=4)
        try:
            for n in range(10):
                assert await client.post("/p", {"n": n}) == {"n": n}
            assert server.connections == 1
            answers = await asyncio.gather(*(client.post("/p", {"n": n}) for n in range(40)))
            assert answers == [{"n": n} for n in range(40)]
            assert server.connections <= 4
        finally:
            await client.close()


async def test_a_connection_the_server_closes_is_not_reused():
    server = Server(lambda r: answer(200, {"ok": 1}, close=True))
    async with server as url:
        client = ServiceClient("coupon", url, "t")
        try:
            for _ in range(3):
                assert await client.post("/p") == {"ok": 1}
            assert server.connections == 3
        finally:
            await client.close()
    server = Server(lambda r: answer(200, {"ok": 2}))
    async with server as url:
        client = ServiceClient("coupon", url, "t")
        try:
            assert await client.post("/p") == {"ok": 2}
            server.transports[0].close()  # the server drops the idle connection
            await asyncio.sleep(0.05)
            assert await client.post("/p") == {"ok": 2}
            assert server.connections == 2
        finally:
            await client.close()


async def test_an_idle_connection_is_not_reused_after_a_while(monkeypatch):
    monkeypatch.setattr(http, "IDLE_SECONDS", 0.05)
    server = Server(lambda r: answer(200, {}))
    async with server as url:
        client = ServiceClient("coupon", url, "t")
        try:
            await client.post("/p")
            await asyncio.sleep(0.1)
            await client.post("/p")
            assert server.connections == 2
        finally:
            await client.close()


async def test_a_chunked_answer():
    async with Server(lambda r: answer(200, {"coupons": list(range(100))}, chunked=True)) as url:
        client = ServiceClient("coupon", url, "t")
        try:
            assert await client.post("/p") == {"coupons": list(range(100))}
            assert await client.post("/p") == {"coupons": list(range(100))}
        finally:
            await client.close()


async def test_the_owner_s_refusal_and_its_failures():
    replies = {"/refused": answer(409, {"error": {"code": "SOLD_OUT", "message": "卖完了", "details": {"id": 3}}}),
               "/broken": answer(500, {"error": {"code": "INTERNAL_ERROR"}}), "/token": answer(401, {}),
               "/garbage": b"this is not HTTP\r\n\r\n", "/ok": answer(200, {}),
               "/cut": b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\nconnection: close\r\n\r\n{",
               "/not-json": b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\n{{{"}

    def reply(request):
        return replies.get(request["url"])

    async with Server(reply) as url:
        client = ServiceClient("coupon", url, "t", timeout_seconds=0.3)
        try:
            with pytest.raises(Refused) as refused:
                await client.post("/refused")
            assert (refused.value.status, refused.value.code, refused.value.message, refused.value.details) == (
                409, "SOLD_OUT", "卖完了", {"id": 3})
            for path in ("/broken", "/token", "/garbage", "/not-json", "/cut", "/silent"):
                with pytest.raises(DependencyUnavailable):
                    await client.post(path)
                assert await client.post("/ok") == {}, f"a call after {path} is served"
        finally:
            await client.close()


async def test_nothing_listening_is_a_503():
    client = ServiceClient("coupon", "http://127.0.0.1:9", "t", timeout_seconds=1)
    with pytest.raises(DependencyUnavailable) as unavailable:
        await client.post("/p")
    assert unavailable.value.status == 503 and unavailable.value.code == "DEPENDENCY_UNAVAILABLE"
    await client.close()
