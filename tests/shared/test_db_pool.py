"""shared.db's pool on MySQL/MariaDB: no ping and no rollback round trip for a connection used a
moment ago and returned clean, yet a transaction left open is rolled back on return and a dead
connection is replaced (idle: before use; busy: after one failed statement, with the whole pool).
The server's own counters (SHOW SESSION STATUS) tell which commands a connection sent."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Column, Integer, Table, select, text
from sqlalchemy.exc import DBAPIError

from shared.db import create_engine, make_metadata
from tests.conftest import database_url, recreate_database

metadata = make_metadata()
rows = Table("pool_row", metadata, Column("id", Integer, primary_key=True, autoincrement=False))
COUNTERS = text("SHOW SESSION STATUS WHERE Variable_name IN ('Com_admin_commands', 'Com_rollback', 'Com_commit')")


@pytest.fixture
async def url():
    url = database_url("shared_pool")
    if not url.startswith("mysql"):
        pytest.skip("the pool options are MySQL/MariaDB's")
    await recreate_database(url)
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    await engine.dispose()
    return url


async def counters(conn) -> dict[str, int]:
    return {name: int(value) for name, value in (await conn.execute(COUNTERS)).all()}


async def connection_id(engine) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(text("SELECT CONNECTION_ID()"))


async def kill(url: str, *ids: int) -> None:
    other = create_engine(url)
    try:
        async with other.connect() as conn:
            for id_ in ids:
                await conn.execute(text(f"KILL CONNECTION {int(id_)}"))
    finally:
        await other.dispose()


async def test_a_connection_used_a_moment_ago_and_returned_clean_costs_no_ping_and_no_rollback(url):
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            before = await counters(conn)
            await conn.commit()
        for _ in range(5):  # the way a request's session uses it: a transaction, committed
            async with engine.begin() as conn:
                await conn.execute(select(rows.c.id))
        async with engine.connect() as conn:
            after = await counters(conn)
        assert after["Com_commit"] - before["Com_commit"] == 6, "the same connection each time"
        assert after["Com_admin_commands"] == before["Com_admin_commands"], "no ping"
        assert after["Com_rollback"] == before["Com_rollback"], "no rollback on return"
    finally:
        await engine.dispose()


async def test_a_transaction_left_open_below_the_connection_is_rolled_back_on_return(url):
    """The safety net of rollback-on-return: SQLAlchemy's Connection has no transaction, the
    server has one (written straight through the driver): returned, it is rolled back."""
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            await conn.commit()
            raw = await conn.get_raw_connection()
            await raw.driver_connection.query("INSERT INTO pool_row (id) VALUES (1)")
            assert raw.driver_connection.get_transaction_status()
        async with engine.connect() as conn:  # the same connection: it would see its own row
            assert await conn.scalar(select(rows.c.id)) is None
        async with engine.begin() as conn:
            await conn.execute(rows.insert().values(id=2))
        async with engine.connect() as conn:  # what the Connection commits stays
            assert (await conn.execute(select(rows.c.id))).scalars().all() == [2]
    finally:
        await engine.dispose()


async def test_a_connection_rolled_back_by_its_owner_is_not_rolled_back_twice(url):
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            before = await counters(conn)
        async with engine.connect() as conn:
            await conn.execute(rows.insert().values(id=3))  # not committed: closing rolls it back
        async with engine.connect() as conn:
            after = await counters(conn)
            assert await conn.scalar(select(rows.c.id)) is None
        assert after["Com_rollback"] - before["Com_rollback"] == 2, "one per close with a transaction, not one more"
    finally:
        await engine.dispose()


async def test_a_connection_that_died_idle_is_pinged_and_replaced_before_use(url):
    engine = create_engine(url, pool_size=1, ping_after_idle=0.05)
    try:
        dead = await connection_id(engine)
        await kill(url, dead)
        await asyncio.sleep(0.2)
        fresh = await connection_id(engine)  # no error reaches the caller
        assert fresh != dead
        async with engine.connect() as conn:  # used a moment ago: not pinged again
            before = await counters(conn)
        async with engine.connect() as conn:
            assert (await counters(conn))["Com_admin_commands"] == before["Com_admin_commands"]
    finally:
        await engine.dispose()


async def test_connections_that_died_busy_fail_one_statement_and_the_pool_reconnects(url):
    """Not pinged (used a moment ago): the first statement on a dead connection fails, marked as
    a disconnect, and invalidates the pool: every other connection opened before reconnects."""
    engine = create_engine(url, pool_size=2, ping_after_idle=60)
    try:
        first, second = await engine.connect(), await engine.connect()
        ids = [await c.scalar(text("SELECT CONNECTION_ID()")) for c in (first, second)]
        for conn in (first, second):
            await conn.close()
        await kill(url, *ids)
        await asyncio.sleep(0.1)
        with pytest.raises(DBAPIError) as failed:
            await connection_id(engine)
        assert failed.value.connection_invalidated
        seen = {await connection_id(engine) for _ in range(4)}
        together = [await engine.connect(), await engine.connect()]  # both pooled connections at once
        seen |= {await c.scalar(text("SELECT CONNECTION_ID()")) for c in together}
        for conn in together:
            await conn.close()
        assert not seen & set(ids), "no dead connection was used again"
    finally:
        await engine.dispose()
