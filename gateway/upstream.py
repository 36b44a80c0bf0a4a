"""The upstream side: a keep-alive connection pool per service and one exchange (request out,
response back) at a time on each connection. httptools (llhttp) parses the responses; the
response streams to the client as it arrives, its framing rewritten for the client's
connection (Content-Length kept, else chunked for HTTP/1.1, else the connection closes)."""

from __future__ import annotations

import asyncio
import collections
import time
from typing import Protocol

import httptools

# Response headers that describe one connection, not the message (RFC 9110 7.6.1), and the ones
# the gateway sets itself.
HOP_BY_HOP = frozenset({
    b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"proxy-connection",
    b"te", b"trailer", b"trailers", b"transfer-encoding", b"upgrade",
})
NOT_RETURNED = HOP_BY_HOP | {b"content-length", b"server", b"x-request-id"}
NO_BODY_STATUSES = frozenset({204, 304})


class UpstreamFailed(Exception):
    """The exchange failed. `answered`: part of the response had already gone to the client
    (nothing else can be sent then); otherwise nothing came back, so a retry may be possible."""

    def __init__(self, reason: str, *, answered: bool = False, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.answered = answered
        self.timed_out = timed_out


class ClientSink(Protocol):
    """What an exchange writes to: the client's connection (gateway/server.py)."""

    def write(self, data: bytes) -> None: ...


def listed_in_connection(value: bytes) -> set[bytes]:
    return {token.strip().lower() for token in value.split(b",") if token.strip()}


class Exchange:
    """One response on its way from a service to the client."""

    __slots__ = (
        "answered",
        "chunked",
        "chunked_upstream",
        "client_http11",
        "client_keep_alive",
        "close_client",
        "connection",
        "deadline",
        "done",
        "extra_head",
        "head_only",
        "headers",
        "length_known",
        "out",
        "sink",
        "status",
        "timeout",
        "watch_set",
        "watched",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop, sink: ClientSink, *, head_only: bool, client_http11: bool,
                 client_keep_alive: bool, extra_head: bytes) -> None:
        """`extra_head`: header lines the gateway adds to the response (each ending CRLF)."""
        self.sink = sink
        self.head_only = head_only
        self.client_http11 = client_http11
        self.client_keep_alive = client_keep_alive
        self.extra_head = extra_head
        self.done: asyncio.Future = loop.create_future()
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunked = False  # to the client
        self.length_known = False  # from the upstream
        self.chunked_upstream = False
        self.answered = False  # the response head went to the client
        self.close_client = not client_keep_alive  # the client's connection ends after this response
        self.connection: UpstreamConnection | None = None
        self.deadline = 0.0  # loop time; see `watch`
        self.timeout = 0.0
        self.watch_set: set[Exchange] | None = None
        self.watched: set[Exchange] | None = None  # watch_set while being watched
        self.out: list[bytes] = []  # for the client, written once per read from the upstream

    # -- events from the upstream connection ---------------------------------------------------

    def on_head(self, status: int) -> None:
        self.status = status
        connection_tokens: set[bytes] = set()
        length = None
        kept = []
        for name, value in self.headers:
            lower = name.lower()
            if lower == b"connection":
                connection_tokens |= listed_in_connection(value)
            elif lower == b"content-length":
                length = value
            if lower not in NOT_RETURNED:
                kept.append((lower, name, value))
        no_body = self.head_only or status in NO_BODY_STATUSES or 100 <= status < 200
        framing = b""
        if length is not None:
            self.length_known = True
            if not (status in NO_BODY_STATUSES and not self.head_only):
                framing = b"Content-Length: " + length + b"\r\n"
        elif not no_body:
            if self.client_http11:
                self.chunked = True
                framing = b"Transfer-Encoding: chunked\r\n"
            else:  # an HTTP/1.0 client: the body ends when the connection does
                self.close_client = True
        if self.close_client:
            framing += b"Connection: close\r\n"
        elif not self.client_http11:
            framing += b"Connection: keep-alive\r\n"
        lines = [b"HTTP/1.1 %d %s\r\n" % (status, REASONS.get(status, b"Unknown"))]
        lines += [name + b": " + value + b"\r\n" for lower, name, value in kept if lower not in connection_tokens]
        lines.append(framing)
        lines.append(self.extra_head)
        lines.append(b"\r\n")
        self.answered = True
        self.out.append(b"".join(lines))

    def on_body(self, data: bytes) -> None:
        if self.head_only:
            return
        if self.chunked:
            self.out.append(b"%x\r\n%s\r\n" % (len(data), data))
        else:
            self.out.append(data)

    def flush(self) -> None:
        if self.out:
            self.sink.write(self.out[0] if len(self.out) == 1 else b"".join(self.out))
            self.out.clear()

    def on_complete(self) -> None:
        if self.chunked:
            self.out.append(b"0\r\n\r\n")
        self.flush()
        self._finish(None)

    def on_failure(self, error: UpstreamFailed) -> None:
        self.flush()
        if self.answered and not error.answered:
            error = UpstreamFailed(str(error), answered=True, timed_out=error.timed_out)
        self._finish(error)

    def watch(self, watched: set[Exchange], now: float, timeout: float) -> None:
        """Be timed out (`time_out`) by whoever checks `watched` (gateway/app.py, every 50 ms)
        if still unfinished `timeout` seconds after `now` (loop time): cheaper than a loop
        timer per exchange."""
        self.deadline = now + timeout
        self.timeout = timeout
        self.watch_set = self.watched = watched
        watched.add(self)

    def time_out(self) -> None:
        self._unwatch()
        connection = self.connection
        if connection is not None:
            connection.exchange = None
            connection.close()
        self._finish(UpstreamFailed("timeout", answered=self.answered, timed_out=True))

    def abandon(self) -> None:
        """The client is gone: drop the upstream connection (mid-response it cannot be reused)
        and whoever waits for this exchange stops waiting."""
        self._unwatch()
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.exchange = None
            connection.close()
        if not self.done.done():
            self.done.cancel()

    def _unwatch(self) -> None:
        if self.watched is not None:
            self.watched.discard(self)
            self.watched = None

    def _finish(self, error: UpstreamFailed | None) -> None:
        self._unwatch()
        if not self.done.done():
            if error is None:
                self.done.set_result(self.status)
            else:
                self.done.set_exception(error)

    def pause(self) -> None:
        """The client reads slowly: stop reading the upstream until it catches up (the upstream
        timeout stops too: the client's own write timeout takes over)."""
        self._unwatch()
        if self.connection is not None:
            self.connection.transport.pause_reading()

    def resume(self) -> None:
        """The client caught up: read the upstream again, with a fresh deadline."""
        if self.connection is not None and not self.connection.transport.is_closing():
            self.connection.transport.resume_reading()
            if self.watch_set is not None and self.watched is None and not self.done.done():
                self.watch(self.watch_set, asyncio.get_running_loop().time(), self.timeout)


class UpstreamConnection(asyncio.Protocol):
    def __init__(self, pool: UpstreamPool) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.exchange: Exchange | None = None
        self.reusable = True
        self.idle_since = 0.0
        self.used = 0  # exchanges started on this connection
        self.in_head = False
        self.interim = False

    # -- asyncio ---------------------------------------------------------------------------

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.exchange is None:  # nothing asked: a service must not speak first
            self.close()
            return
        exchange = self.exchange
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(UpstreamFailed(f"bad response from upstream: {exc}"))
        exchange.flush()

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.reusable = False
        self.pool.discard(self)
        exchange = self.exchange
        if exchange is None:
            return
        self.exchange = None
        if exchange.answered and not self.in_head and not exchange.length_known and not exchange.chunked_upstream:
            exchange.on_complete()  # a body delimited by the end of the connection
        else:
            exchange.on_failure(UpstreamFailed(f"connection lost: {exc!r}"))

    # -- httptools -------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.in_head = True
        self.exchange.headers = []
        self.exchange.chunked_upstream = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.exchange.headers.append((name, value))
        if len(name) == 17 and name.lower() == b"transfer-encoding":
            self.exchange.chunked_upstream = True

    def on_headers_complete(self) -> None:
        self.in_head = False
        status = self.parser.get_status_code()
        if status < 200:  # 100 Continue and friends: not for the client (the gateway sent the body whole)
            self.interim = True
            return
        if not self.parser.should_keep_alive():
            self.reusable = False
        exchange = self.exchange
        exchange.on_head(status)
        if exchange.head_only:
            # llhttp cannot be told a HEAD response has no body: this connection is done with
            self.reusable = False
            self._complete()

    def on_body(self, body: bytes) -> None:
        if self.exchange is not None:
            self.exchange.on_body(body)

    def on_message_complete(self) -> None:
        if self.interim:
            self.interim = False
            return
        if self.exchange is not None:
            self._complete()

    # -- ours ------------------------------------------------------------------------------

    def start(self, exchange: Exchange, request: bytes) -> None:
        self.exchange = exchange
        exchange.connection = self
        self.used += 1
        self.transport.write(request)

    def _complete(self) -> None:
        exchange, self.exchange = self.exchange, None
        exchange.connection = None
        if self.reusable:
            self.pool.release(self)
        else:
            self.close()
        exchange.on_complete()

    def _fail(self, error: UpstreamFailed) -> None:
        exchange, self.exchange = self.exchange, None
        self.close()
        if exchange is not None:
            exchange.connection = None
            exchange.on_failure(error)

    def close(self) -> None:
        self.reusable = False
        if self.transport is not None:
            self.transport.close()


class UpstreamPool:
    """Keep-alive connections to one service: the most recently used first, at most `limit`
    open; a request beyond that waits for one. A connection idle longer than `idle_seconds` is
    closed instead of reused (before the service's own keep-alive timeout closes it under us)."""

    def __init__(self, host: str, port: int, limit: int, idle_seconds: float = 4.0) -> None:
        self.host = host
        self.port = port
        self.limit = limit
        self.idle_seconds = idle_seconds
        self.idle: list[UpstreamConnection] = []
        self.open = 0
        self.waiters: collections.deque[asyncio.Future] = collections.deque()

    def take(self) -> UpstreamConnection | None:
        """A live idle connection (its `used` > 0), if there is one."""
        idle = self.idle
        if not idle:
            return None
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if connection.reusable and not connection.transport.is_closing():
                if now - connection.idle_since < self.idle_seconds:
                    return connection
                connection.close()
        return None

    async def acquire(self, seconds: float) -> UpstreamConnection:
        """An idle connection, else a new one; OSError when none can be made, TimeoutError
        after `seconds`."""
        connection = self.take()
        if connection is not None:
            return connection
        if self.open >= self.limit:
            waiter = asyncio.get_running_loop().create_future()
            self.waiters.append(waiter)
            connection = await asyncio.wait_for(waiter, seconds)
            if connection is not None:
                return connection
        self.open += 1
        try:
            loop = asyncio.get_running_loop()
            _, connection = await asyncio.wait_for(
                loop.create_connection(lambda: UpstreamConnection(self), self.host, self.port), seconds)
        except BaseException:
            self.open -= 1
            self._wake(None)
            raise
        return connection

    def release(self, connection: UpstreamConnection) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        connection.idle_since = time.monotonic()
        self.idle.append(connection)

    def discard(self, connection: UpstreamConnection) -> None:
        """A connection closed: it leaves the pool, and a waiter may open a new one."""
        self.open -= 1
        try:
            self.idle.remove(connection)
        except ValueError:
            pass
        self._wake(None)

    def _wake(self, connection: UpstreamConnection | None) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return

    def close(self) -> None:
        for connection in list(self.idle):
            connection.close()
        self.idle.clear()


async def probe(host: str, port: int, seconds: float = 1.0) -> str:
    """GET /healthz on a fresh connection: "ok" or what went wrong."""
    parsed: dict[str, object] = {}

    class Reader:
        def on_headers_complete(self) -> None:
            parsed["status"] = parser.get_status_code()

    parser = httptools.HttpResponseParser(Reader())
    writer = None
    try:
        async with asyncio.timeout(seconds):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n" % (host.encode(), port))
            while "status" not in parsed:
                data = await reader.read(4096)
                if not data:
                    return "error: connection closed"
                parser.feed_data(data)
    except (OSError, TimeoutError, httptools.HttpParserError) as exc:
        return f"error: {type(exc).__name__}"
    finally:
        if writer is not None:
            writer.close()
    status = parsed["status"]
    return "ok" if status == 200 else f"error: HTTP {status}"


def _reasons() -> dict[int, bytes]:
    from http import HTTPStatus

    return {status.value: status.phrase.encode() for status in HTTPStatus}


REASONS = _reasons()
