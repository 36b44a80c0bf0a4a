"""REDIS_URL's cluster form: what `make_redis` makes of it (no server needed: the client connects
on its first command)."""

from __future__ import annotations

import inspect
import tomllib
from pathlib import Path

import pytest
import redis
from packaging.requirements import Requirement
from redis.asyncio import Redis
from redis.asyncio.cluster import NodesManager, RedisCluster
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError, RedisClusterException, TimeoutError

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


async def test_options_ipv6_seeds_and_bad_seeds():
    client = make_redis("redis+cluster://10.0.0.1:7000,[fd00::2]:7001,10.0.0.3:7002/0?health_check_interval=5")
    try:
        assert set(client.nodes_manager.startup_nodes) == {"10.0.0.1:7000", "fd00::2:7001", "10.0.0.3:7002"}
        assert {node.host for node in client.nodes_manager.startup_nodes.values()} == {"10.0.0.1", "fd00::2",
                                                                                    "10.0.0.3"}
        assert client.connection_kwargs["health_check_interval"] == 5
    finally:
        await client.aclose()
    client = make_redis("redis+cluster://[::1]:7000?health_check_interval=7")
    try:
        assert set(client.nodes_manager.startup_nodes) == {"::1:7000"}
        assert client.connection_kwargs["health_check_interval"] == 7
    finally:
        await client.aclose()
    for url in ("redis+cluster://10.0.0.1:7000,10.0.0.2", "redis+cluster://10.0.0.1:x"):
        with pytest.raises(ValueError, match="host:port"):
            make_redis(url)


def test_redis_py_is_the_version_whose_internals_shared_redis_overrides():
    """WaitingCluster and LuaScript override redis-py 8.1's internals: pyproject allows 8.1 only,
    and the overridden methods still take what the overrides pass on."""
    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    bound = next(Requirement(d) for d in project["project"]["dependencies"] if Requirement(d).name == "redis")
    assert bound.specifier.contains(redis.__version__)
    assert not bound.specifier.contains("8.0.0") and not bound.specifier.contains("8.2.0"), bound

    def parameters(function) -> list[str]:
        return list(inspect.signature(function).parameters)

    assert parameters(RedisCluster.initialize) == ["self", "additional_startup_nodes_info", "last_failed_node_name"]
    assert parameters(NodesManager.initialize) == ["self", "additional_startup_nodes_info", "last_failed_node_name"]
    assert parameters(RedisCluster._execute_command) == ["self", "target_node", "args", "kwargs"]
    assert parameters(RedisCluster.execute_command) == ["self", "args", "kwargs"]
    assert parameters(AsyncScript.__call__) == ["self", "keys", "args", "client"]
    assert "_initialize" in RedisCluster.__slots__ and "default_node" in NodesManager.__slots__
    assert {ConnectionError, TimeoutError} <= set(RedisCluster.ERRORS_ALLOW_RETRY)
