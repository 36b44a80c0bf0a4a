"""A small Redis client for the gateway's hot path: every command issued in one event-loop turn
goes out in one write (a pipeline), replies come back in order on one connection.

redis-py's pipeline machinery cost more CPU per rate-limit check than the rest of a forwarded
request; this needs a few microseconds. It speaks just what the limiter needs (RESP2 commands,
integer / string / error / array replies). Replies are read with hiredis's C Reader when it is
installed, else with `RespReader` below.

On Redis Cluster (a `redis+cluster://` URL) the limiter uses `ClusterRedis` instead: redis-py's
cluster client behind the same three calls, which sends each script call to the node owning its
keys' slot and follows the cluster's redirections (MOVED, ASK) and failovers. Slower per call than
`PipelinedRedis`, and correct without a second implementation of the cluster protocol here.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
from urllib.parse import unquote, urlsplit

from redis.exceptions import NoScriptError, RedisClusterException, RedisError, ResponseError

from shared.redis import make_cluster

try:
    import hiredis
except ImportError:  # pragma: no cover - depends on the environment
    hiredis = None


class RedisReplyError(Exception):
    """An error reply (`-ERR ...`, `-NOSCRIPT ...`): the command failed, the connection is fine."""


class RedisProtocolError(Exception):
    """Redis sent bytes that are not RESP: the connection is dropped."""


def encode(*args: bytes | str | int | float) -> bytes:
    """One command in RESP: an array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        if not isinstance(arg, bytes):
            arg = str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


class RespReader:
    """hiredis.Reader's interface (feed / gets, False when a reply is not complete yet) for RESP2
    replies, for when hiredis is not installed."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._pos = 0

    def feed(self, data: bytes) -> None:
        if self._pos:
            del self._buffer[:self._pos]
            self._pos = 0
        self._buffer += data

    def gets(self):
        try:
            reply, pos = self._read(self._pos)
        except _Incomplete:
            return False
        self._pos = pos
        return reply

    def _line(self, pos: int) -> tuple[bytes, int]:
        end = self._buffer.find(b"\r\n", pos)
        if end < 0:
            raise _Incomplete
        return bytes(self._buffer[pos:end]), end + 2

    def _read(self, pos: int):
        line, pos = self._line(pos)
        if not line:
            raise RedisProtocolError("empty reply line")
        kind, rest = line[:1], line[1:]
        if kind == b":":
            return int(rest), pos
        if kind == b"+":
            return rest, pos
        if kind == b"-":
            return RedisReplyError(rest.decode(errors="replace")), pos
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None, pos
            if len(self._buffer) < pos + size + 2:
                raise _Incomplete
            return bytes(self._buffer[pos:pos + size]), pos + size + 2
        if kind == b"*":
            count = int(rest)
            if count < 0:
                return None, pos
            items = []
            for _ in range(count):
                item, pos = self._read(pos)
                items.append(item)
            return items, pos
        raise RedisProtocolError(f"unexpected reply type {kind!r}")


def _time_out(futures: list[asyncio.Future]) -> None:
    """Callers still waiting give up; their replies, if they come, are read and dropped."""
    for future in futures:
        if not future.done():
            future.set_exception(TimeoutError("redis did not answer in time"))


class _Incomplete(Exception):
    pass


def _reader():
    if hiredis is not None:
        return hiredis.Reader(replyError=RedisReplyError, protocolError=RedisProtocolError)
    return RespReader()


class _Connection(asyncio.Protocol):
    def __init__(self, on_lost) -> None:
        self.transport: asyncio.Transport | None = None
        self.reader = _reader()
        self.waiting: collections.deque[asyncio.Future] = collections.deque()
        self.on_lost = on_lost

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        try:
            while (reply := self.reader.gets()) is not False:
                future = self.waiting.popleft()
                if not future.done():  # its caller may have given up (timeout)
                    future.set_result(reply)
        except (RedisProtocolError, ValueError, IndexError) as exc:
            self.transport.close()
            self._fail(ConnectionError(f"redis protocol error: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ConnectionError(f"redis connection lost: {exc!r}"))
        self.on_lost(self)

    def _fail(self, exc: Exception) -> None:
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(exc)


class PipelinedRedis:
    """`await client.call(b"EVALSHA", ...)` -> the reply (RedisReplyError for an error reply).
    Calls made in the same loop turn share one write; a lost connection fails the calls that
    were waiting on it and the next call connects again."""

    def __init__(self, url: str, reply_timeout: float | None = None, connect_timeout: float = 2.0) -> None:
        """`reply_timeout`: a caller waits at most this many seconds (TimeoutError, up to a
        quarter of it late: one periodic check, not a timer per call)."""
        parts = urlsplit(url)
        if parts.scheme not in ("redis", ""):
            raise ValueError(f"unsupported redis url scheme {parts.scheme!r} (redis:// only)")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 6379
        self.db = int(parts.path.lstrip("/") or 0)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.connect_timeout = connect_timeout
        self.reply_timeout = reply_timeout
        self._connection: _Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the one it is used on, once used
        self._connecting: asyncio.Future | None = None
        self._queued: list[bytes] = []
        self._queued_futures: list[asyncio.Future] = []
        self._deadlines: collections.deque[tuple[float, list[asyncio.Future]]] = collections.deque()
        self._expiring: asyncio.TimerHandle | None = None

    command = staticmethod(encode)  # what `send` takes

    def call(self, *args: bytes | str | int | float) -> asyncio.Future:
        return self.send(encode(*args))

    def send(self, command: bytes) -> asyncio.Future:
        """`command`: one command already in RESP (see `encode`); returns the reply's future."""
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        future = loop.create_future()
        if not self._queued:
            loop.call_soon(self._flush)
            if self.reply_timeout is not None:
                self._deadlines.append((loop.time() + self.reply_timeout, self._queued_futures))
                if self._expiring is None:
                    self._expiring = loop.call_later(self.reply_timeout / 4, self._expire)
        self._queued.append(command)
        self._queued_futures.append(future)
        return future

    def _expire(self) -> None:
        """Calls past their deadline give up; checked every quarter of the timeout while any wait."""
        now = self._loop.time()
        deadlines = self._deadlines
        while deadlines and (deadlines[0][0] <= now or all(f.done() for f in deadlines[0][1])):
            _time_out(deadlines.popleft()[1])
        self._expiring = self._loop.call_later(self.reply_timeout / 4, self._expire) if deadlines else None

    def _flush(self) -> None:
        connection = self._connection
        if connection is None or connection.transport.is_closing():
            if self._connecting is None:
                self._connecting = asyncio.ensure_future(self._connect())
                self._connecting.add_done_callback(self._connected)
            return
        commands, futures = self._queued, self._queued_futures
        self._queued, self._queued_futures = [], []
        connection.waiting.extend(futures)
        connection.transport.write(b"".join(commands))

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        _, connection = await asyncio.wait_for(
            loop.create_connection(lambda: _Connection(self._lost), self.host, self.port), self.connect_timeout)
        hello = []
        if self.password is not None:
            hello.append(encode(b"AUTH", *([self.username] if self.username else []), self.password))
        if self.db:
            hello.append(encode(b"SELECT", self.db))
        if hello:
            futures = [loop.create_future() for _ in hello]
            connection.waiting.extend(futures)
            connection.transport.write(b"".join(hello))
            for reply in await asyncio.wait_for(asyncio.gather(*futures), self.connect_timeout):
                if isinstance(reply, RedisReplyError):
                    connection.transport.close()
                    raise reply
        return connection

    def _connected(self, task: asyncio.Future) -> None:
        self._connecting = None
        if task.cancelled() or task.exception() is not None:
            reason = "cancelled" if task.cancelled() else repr(task.exception())
            error = ConnectionError(f"cannot connect to redis: {reason}")
            futures, self._queued, self._queued_futures = self._queued_futures, [], []
            for future in futures:
                if not future.done():
                    future.set_exception(error)
            return
        self._connection = task.result()
        if self._queued:
            self._flush()

    def _lost(self, connection: _Connection) -> None:
        if self._connection is connection:
            self._connection = None

    async def close(self) -> None:
        if self._expiring is not None:
            self._expiring.cancel()
            self._expiring = None
        if self._connecting is not None:
            self._connecting.cancel()
        if self._connection is not None:
            self._connection.transport.close()
            self._connection = None


class ClusterRedis:
    """`PipelinedRedis`'s calls on Redis Cluster, through redis-py's cluster client. Commands are
    argument tuples; replies and failures come back as `PipelinedRedis` gives them (an error
    reply as RedisReplyError, an unreachable or slow node as ConnectionError / TimeoutError)."""

    def __init__(self, url: str, reply_timeout: float | None = None, max_connections: int = 100) -> None:
        self.client = make_cluster(url, max_connections=max_connections)
        self.reply_timeout = reply_timeout
        self._scripts: dict[bytes, bytes] = {}  # sha -> source of the scripts loaded through here
        self._connecting: asyncio.Task | None = None

    async def connect(self, retry_seconds: float = 1.0) -> None:
        """Learn the cluster's nodes and slots now, without the reply timeout (40-80 ms, more on
        a busy host: done by a request's first call, it timed out and the limiter let requests
        through unchecked). If no node answers, tried again every `retry_seconds` in the
        background until one does."""
        try:
            await self.client.initialize()
        except (RedisError, OSError) as exc:
            if self._connecting is None or self._connecting.done():
                self._connecting = asyncio.create_task(self._keep_connecting(retry_seconds))
            raise ConnectionError(f"redis cluster: {exc!r}") from exc

    async def _keep_connecting(self, retry_seconds: float) -> None:
        while True:
            await asyncio.sleep(retry_seconds)
            try:
                await self.client.initialize()
                return
            except (RedisError, OSError):
                pass

    @staticmethod
    def command(*args: bytes | str | int | float) -> tuple:
        """The arguments, the command's name as text (redis-py routes by it)."""
        name = args[0].decode() if isinstance(args[0], bytes) else str(args[0])
        return name.upper(), *args[1:]

    def call(self, *args: bytes | str | int | float):
        return self.send(self.command(*args))

    async def send(self, command: tuple):
        try:
            async with asyncio.timeout(self.reply_timeout):
                return await self._send(command)
        except NoScriptError as exc:
            return RedisReplyError(f"NOSCRIPT {exc}")
        except ResponseError as exc:
            return RedisReplyError(str(exc))
        except (RedisError, RedisClusterException) as exc:  # the latter is no RedisError
            raise ConnectionError(f"redis cluster: {exc!r}") from exc

    async def _send(self, command: tuple):
        name = command[0]
        if name == "SCRIPT" and command[1].upper() in (b"LOAD", "LOAD"):  # on every master, remembered
            source = command[2]
            self._scripts[hashlib.sha1(source).hexdigest().encode()] = source
            return await self.client.script_load(source)
        try:
            return await self.client.execute_command(*command)
        except NoScriptError:
            source = self._scripts.get(command[1]) if name == "EVALSHA" else None
            if source is None:
                raise
            # A node that restarted has no scripts: EVAL runs it there (and loads it), whatever
            # the state of the other masters
            return await self.client.execute_command("EVAL", source, *command[2:])

    async def close(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
        await self.client.aclose()
