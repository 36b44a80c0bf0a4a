from datetime import UTC, date, datetime

import pytest

from shared.clock import FixedClock, business_today
from shared.redis import entity_key, load_lua


def test_business_today_is_in_the_business_timezone():
    clock = FixedClock(datetime(2026, 11, 22, 16, 30, tzinfo=UTC))  # 00:30 on the 23rd in Shanghai
    assert business_today(clock, "Asia/Shanghai") == date(2026, 11, 23)
    assert business_today(clock, "UTC") == date(2026, 11, 22)
    clock.advance(hours=-1)
    assert business_today(clock, "Asia/Shanghai") == date(2026, 11, 22)


def test_fixed_clock_needs_an_aware_time():
    with pytest.raises(ValueError):
        FixedClock(datetime(2026, 1, 1))


def test_keys_of_one_entity_share_a_hash_tag():
    assert entity_key("sk", 42, "stock") == "{sk:42}:stock"
    assert entity_key("sk", 42, "user", 7) == "{sk:42}:user:7"


async def test_lua_scripts_load_from_their_package_and_run(redis):
    script = load_lua(redis, "gateway", "ratelimit.lua")
    key = entity_key("rl:test", datetime.now(UTC).timestamp(), "bucket")
    assert await script(keys=[key], args=[1, 2]) == 0
    assert await script(keys=[key], args=[1, 2]) == 0
    assert await script(keys=[key], args=[1, 2]) > 0  # bucket of 2 is empty: wait in ms
    await redis.script_flush()  # EVALSHA falls back to loading the script again
    assert await script(keys=[key], args=[1, 2]) > 0
    await redis.delete(key)


async def test_the_first_command_after_redis_restarts_succeeds():
    """A pooled connection that the old server closed is replaced on the spot (a service's first
    /readyz after a Redis restart failed before)."""
    from promo.embedded import free_port, start_redis
    from shared.redis import make_redis

    port = free_port()
    server = start_redis(port)
    client = make_redis(server.url)
    try:
        assert await client.set("k", "1")
        server.stop()
        server = start_redis(port)
        assert await client.ping() is True
        assert await client.get("k") is None  # a new, empty server: the command really went to it
    finally:
        await client.aclose()
        server.stop()
