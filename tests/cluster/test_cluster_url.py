"""REDIS_URL's cluster form: what `make_redis` makes of it (no server needed: the client connects
on its first command)."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisClusterException

from shared.redis import is_cluster_url, make_redis


async def test_a_cluster_url_lists_seed_nodes_and_keeps_the_credentials():
    client = make_redis("redis+cluster://app:s3cret@10.0.0.1:7000,10.0.0.2:7001, 10.0.0.3:7002/0")
    try:
        assert isinstance(client, RedisCluster)
        assert set(client.nodes_manager.startup_nodes) == {"10.0.0.1:7000", "10.0.0.2:7001", "10.0.0.3:7002"}
        assert (client.connection_kwargs["username"], client.connection_kwargs["password"]) == ("app", "s3cret")
        assert client.connection_kwargs["socket_timeout"] == 2.0
    finally:
        await client.aclose()


async def test_one_server_stays_a_plain_client_and_a_cluster_has_database_0_only():
    plain = make_redis("redis://127.0.0.1:6379/3")
    assert isinstance(plain, Redis) and not is_cluster_url("redis://127.0.0.1:6379/3")
    await plain.aclose()
    assert is_cluster_url("REDISS+CLUSTER://h:1")
    with pytest.raises(RedisClusterException):
        make_redis("redis+cluster://127.0.0.1:7000/2")
    with pytest.raises(ValueError, match="host:port"):
        make_redis("redis+cluster:///0")
