"""The client side: one asyncio Protocol per connection, httptools (llhttp) parsing its requests.

Requests are answered in the order they came (pipelining), one at a time per connection; a
request's body is read whole (it is capped) before it is forwarded. A request the gateway cannot
take (malformed, head or body too large, too slow) gets its error and the connection closes
after it: the gateway stops reading it, half-closes and drops what the client still sends for a
moment, so the client reads the answer instead of a reset."""

from __future__ import annotations

import asyncio
import collections
import time
from typing import TYPE_CHECKING

import httptools

from shared.errors import DomainError

if TYPE_CHECKING:
    from gateway.app import Gateway
    from gateway.upstream import Exchange

LINGER_SECONDS = 2.0  # after an error that closes the connection: how long the client's leftovers are read
QUEUED_MAX = 16  # pipelined requests waiting for their turn before the gateway stops reading


class MalformedRequest(DomainError):
    status = 400
    code = "MALFORMED_REQUEST"
    messages = {"en": "The request is not valid HTTP/1.1", "zh-CN": "请求不符合超文本传输协议格式"}


class HeadersTooLarge(DomainError):
    status = 431
    code = "HEADERS_TOO_LARGE"
    messages = {"en": "Request line and headers larger than {limit} bytes", "zh-CN": "请求行和请求头超过 {limit} 字节"}


class PayloadTooLarge(DomainError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"
    messages = {"en": "Request body larger than {limit} bytes", "zh-CN": "请求体超过 {limit} 字节"}


class RequestTimeout(DomainError):
    status = 408
    code = "REQUEST_TIMEOUT"
    messages = {"en": "The request did not arrive in time", "zh-CN": "请求未在规定时间内送达"}


class _Stop(Exception):
    """Raised from a parser callback to stop parsing; the request carries the error."""


class Request:
    """One parsed request. Header names are lower-cased; `named` has each header's value (a
    repeated header's values joined by commas)."""

    __slots__ = (
        "body",
        "body_size",
        "error",
        "has_body",
        "head_size",
        "headers",
        "http11",
        "keep_alive",
        "method",
        "named",
        "started",
        "url",
    )

    def __init__(self) -> None:
        self.method = b"GET"
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.named: dict[bytes, bytes] = {}
        self.body: list[bytes] = []
        self.body_size = 0
        self.has_body = False  # Content-Length or Transfer-Encoding came: the upstream gets a Content-Length
        self.http11 = True
        self.keep_alive = True
        self.error: DomainError | None = None
        self.head_size = 0
        self.started = time.monotonic()


class ClientConnection(asyncio.Protocol):
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        settings = gateway.settings
        self.max_body = settings.gateway_max_body_bytes
        self.max_head = settings.gateway_max_header_bytes
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.peer = "unknown"
        self.parsing: Request | None = None
        self.queue: collections.deque[Request] = collections.deque()
        self.serving: asyncio.Task | None = None
        self.exchange: Exchange | None = None  # the response streaming to this client now
        self.reading = True
        self.closing = False  # no more requests: the connection ends after what is queued
        self.last_active = time.monotonic()
        self.write_paused_since = 0.0
        self.linger: asyncio.TimerHandle | None = None
        self.eof = False  # the client will send nothing more

    # -- asyncio ---------------------------------------------------------------------------

    def connection_made(self, transport) -> None:
        self.transport = transport
        peer = transport.get_extra_info("peername")
        if peer:
            self.peer = peer[0]
        self.gateway.connections.add(self)

    def data_received(self, data: bytes) -> None:
        self.last_active = time.monotonic()
        if self.closing:
            return  # lingering: what the client still sends is dropped
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # An Upgrade request (the gateway forwards it as a plain one): llhttp stops here
            self._stop_reading()
        except httptools.HttpParserError:
            request = self.parsing
            if request is None or request.error is None:
                request = request or Request()
                request.error = MalformedRequest()
            self.parsing = None
            request.keep_alive = False
            self._enqueue(request)
            self._stop_reading()

    def eof_received(self) -> bool:
        self.eof = True
        if not self.queue and self.serving is None:
            return False  # nothing left to answer: close
        self.closing = True  # the client has said all it will: answer what is queued, then close
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.gateway.connections.discard(self)
        self.closing = True
        if self.linger is not None:
            self.linger.cancel()
        if self.exchange is not None:
            self.exchange.abandon()  # a response half-way: that upstream connection cannot be reused
        if self.serving is not None:
            self.serving.cancel()

    def pause_writing(self) -> None:
        self.write_paused_since = time.monotonic()
        if self.exchange is not None:
            self.exchange.pause()

    def resume_writing(self) -> None:
        self.write_paused_since = 0.0
        if self.exchange is not None:
            self.exchange.resume()

    # -- httptools -------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.parsing = Request()

    def on_url(self, url: bytes) -> None:
        request = self.parsing
        request.url += url
        request.head_size += len(url)
        if request.head_size > self.max_head:
            request.error = HeadersTooLarge(limit=self.max_head)
            raise _Stop

    def on_header(self, name: bytes, value: bytes) -> None:
        request = self.parsing
        request.head_size += len(name) + len(value) + 4
        if request.head_size > self.max_head:
            request.error = HeadersTooLarge(limit=self.max_head)
            raise _Stop
        name = name.lower()
        request.headers.append((name, value))
        named = request.named
        named[name] = named[name] + b", " + value if name in named else value

    def on_headers_complete(self) -> None:
        request, parser = self.parsing, self.parser
        request.method = parser.get_method()
        request.http11 = parser.get_http_version() == "1.1"
        request.keep_alive = parser.should_keep_alive()
        named = request.named
        length = named.get(b"content-length")
        if length is not None or b"transfer-encoding" in named:
            request.has_body = True
        if length is not None and int(length) > self.max_body:  # llhttp checked it is a number
            request.error = PayloadTooLarge(limit=self.max_body)
            raise _Stop
        expect = named.get(b"expect")
        if expect is not None and expect.lower() == b"100-continue" and request.http11:
            if not self.queue and self.serving is None:  # nothing else is being answered on this connection
                self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        request = self.parsing
        request.body_size += len(body)
        if request.body_size > self.max_body:
            request.error = PayloadTooLarge(limit=self.max_body)
            raise _Stop
        request.body.append(body)

    def on_message_complete(self) -> None:
        request, self.parsing = self.parsing, None
        self._enqueue(request)

    # -- serving ---------------------------------------------------------------------------

    def _enqueue(self, request: Request) -> None:
        self.queue.append(request)
        if self.serving is None:
            self.serving = self.gateway.loop.create_task(self._serve())
        elif len(self.queue) >= QUEUED_MAX and self.reading:
            self.transport.pause_reading()
            self.reading = False

    async def _serve(self) -> None:
        queue = self.queue
        try:
            while queue:
                request = queue.popleft()
                if not self.reading and not self.closing and len(queue) < QUEUED_MAX // 2:
                    self.reading = True
                    self.transport.resume_reading()
                await self.gateway.handle(self, request)
                if not request.keep_alive or request.error is not None:
                    self.finish()
                    return
                if self.transport.is_closing():
                    return
        finally:
            self.serving = None
        if self.closing:
            self.finish()

    @property
    def last_answer(self) -> bool:
        """The answer being written is the connection's last (it says Connection: close)."""
        return self.closing and not self.queue

    def write(self, data: bytes) -> None:
        self.transport.write(data)

    def abort(self) -> None:
        """A response broke half-way: the client must not take it for a whole one."""
        self.closing = True
        self.transport.abort()

    def _stop_reading(self) -> None:
        self.closing = True
        self.parsing = None

    def finish(self) -> None:
        """Close after what was written; read and drop the client's leftovers for a moment so it
        gets the answer, not a connection reset."""
        self.closing = True
        transport = self.transport
        if transport.is_closing():
            return
        if self.eof:
            transport.close()
        elif transport.can_write_eof():
            transport.write_eof()
            self.linger = asyncio.get_running_loop().call_later(LINGER_SECONDS, transport.close)
        else:
            transport.close()

    def check(self, now: float, request_timeout: float, idle_timeout: float) -> None:
        """Called about once a second: a request arriving too slowly gets 408, a client not
        reading its response for too long is dropped, an idle keep-alive connection closed."""
        if self.transport.is_closing():
            return
        if self.write_paused_since and now - self.write_paused_since > request_timeout:
            self.abort()
        elif self.parsing is not None and now - self.parsing.started > request_timeout:
            request, self.parsing = self.parsing, None
            request.error, request.keep_alive = RequestTimeout(), False
            self._stop_reading()
            self._enqueue(request)
        elif (self.parsing is None and not self.queue and self.serving is None
              and now - self.last_active > idle_timeout):
            self.transport.close()
