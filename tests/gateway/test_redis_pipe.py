"""The gateway's small Redis client, against the real Redis: replies in order, one write per loop
turn, errors per command, a lost connection failing only the calls waiting on it."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from gateway.redis_pipe import PipelinedRedis, RedisReplyError, RespReader, encode
from promo.embedded import free_port
from tests.conftest import REDIS_URL


def test_the_fallback_reader_reads_every_reply_kind_fed_a_byte_at_a_time():
    stream = (b":42\r\n+OK\r\n-NOSCRIPT No matching script\r\n$5\r\nhe\r\nl\r\n$-1\r\n"
              b"*3\r\n:1\r\n$0\r\n\r\n*1\r\n+x\r\n*-1\r\n")
    reader = RespReader()
    replies = []
    for i in range(len(stream)):
        reader.feed(stream[i:i + 1])
        while (reply := reader.gets()) is not False:
            replies.append(reply)
    error = replies[2]
    assert isinstance(error, RedisReplyError) and str(error).startswith("NOSCRIPT")
    assert replies[:2] == [42, b"OK"] and replies[3:] == [b"he\r\nl", None, [1, b"", [b"x"]], None]


def test_encode_is_resp_arrays_of_bulk_strings():
    assert encode(b"SET", "k", 1, 0.5) == b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n1\r\n$3\r\n0.5\r\n"


async def test_calls_of_one_loop_turn_share_one_write_and_get_their_own_replies_in_order():
    client = PipelinedRedis(REDIS_URL, reply_timeout=2)
    key = f"test:pipe:{uuid.uuid4().hex}"
    try:
        await client.call(b"PING")  # connected
        writes = []
        transport = client._connection.transport
        original = transport.write
        transport.write = lambda data: (writes.append(data), original(data))[1]
        replies = await asyncio.gather(*(client.call(b"INCR", key) for _ in range(50)),
                                       client.call(b"HSET", key, b"f", b"v"))
        assert replies[:50] == list(range(1, 51))
        assert isinstance(replies[50], RedisReplyError) and "WRONGTYPE" in str(replies[50])
        assert len(writes) == 1, "51 commands, one write"
        assert await client.call(b"DEL", key) == 1
    finally:
        await client.close()


async def test_no_redis_fails_the_waiting_calls_and_a_later_call_connects_again():
    client = PipelinedRedis(f"redis://127.0.0.1:{free_port()}/0", reply_timeout=2)
    with pytest.raises(ConnectionError):
        await client.call(b"PING")
    client.port = int(REDIS_URL.rsplit(":", 1)[1].split("/")[0])
    assert await client.call(b"PING") == b"PONG"
    client._connection.transport.close()  # Redis gone under it: the next call makes a new connection
    await asyncio.sleep(0.05)
    assert await client.call(b"PING") == b"PONG"
    await client.close()


async def test_a_reply_that_does_not_come_in_time_is_a_timeout_and_later_replies_stay_in_order():
    client = PipelinedRedis(REDIS_URL, reply_timeout=0.2)
    try:
        with pytest.raises(TimeoutError):  # BLPOP answers (nil) after 0.4 s
            await client.call(b"BLPOP", f"test:pipe:none:{uuid.uuid4().hex}", b"0.4")
        await asyncio.sleep(0.4)  # its late reply arrives and is dropped
        assert await client.call(b"ECHO", b"after") == b"after"
    finally:
        await client.close()
