"""shared.db.in_transaction: a unit of work that MySQL rolls back as a deadlock's victim runs again
from the start, in a new transaction; other errors, and the last attempt's, reach the caller."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Column, Integer, Table, insert, select, update
from sqlalchemy.exc import OperationalError

from shared import db
from shared.db import create_engine, in_transaction, make_metadata, make_sessionmaker
from tests.conftest import database_url, recreate_database

metadata = make_metadata()
counters = Table("tx_counter", metadata, Column("id", Integer, primary_key=True, autoincrement=False),
                 Column("value", Integer, nullable=False))
filler = Table("tx_filler", metadata, Column("id", Integer, primary_key=True, autoincrement=False))


@pytest.fixture
async def sessions():
    url = database_url("shared_tx")
    await recreate_database(url)
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(insert(counters), [{"id": 1, "value": 0}, {"id": 2, "value": 0}])
    yield make_sessionmaker(engine)
    await engine.dispose()


async def values(sessions) -> dict[int, int]:
    async with sessions() as session:
        return dict((await session.execute(select(counters.c.id, counters.c.value))).all())


def bump(row: int):
    return update(counters).where(counters.c.id == row).values(value=counters.c.value + 1)


async def test_a_deadlock_victim_runs_again_and_keeps_nothing_of_its_first_attempt(sessions, monkeypatch):
    """A real cycle: the work locks row 1 then asks for row 2; another transaction, heavier (it
    wrote 40 rows), holds row 2 and asks for row 1. MariaDB rolls back the lighter one, the work."""
    if sessions.kw["bind"].dialect.name != "mysql":
        pytest.skip("deadlocks are MySQL/MariaDB's")
    row_1_locked, attempts, errors = asyncio.Event(), [], []
    deadlock = db.is_deadlock

    def seen(error) -> bool:
        errors.append(error.orig.args[0])
        return deadlock(error)

    async def work(session) -> int:
        attempts.append(len(attempts) + 1)
        await session.execute(bump(1))
        row_1_locked.set()
        await session.execute(bump(2))
        return len(attempts)

    monkeypatch.setattr(db, "is_deadlock", seen)
    async with sessions() as other:
        await other.execute(insert(filler), [{"id": n} for n in range(40)])
        await other.execute(bump(2))
        running = asyncio.create_task(in_transaction(sessions, work))
        await asyncio.wait_for(row_1_locked.wait(), 10)
        await other.execute(bump(1))  # a cycle: the work is rolled back, this goes on
        await other.commit()
    assert await asyncio.wait_for(running, 30) == 2
    assert errors == [1213] and attempts == [1, 2]
    assert await values(sessions) == {1: 2, 2: 2}, "the other's bump and one of the work's, each"


def deadlock_error() -> OperationalError:
    return OperationalError("UPDATE tx_counter ...", {}, Exception(db.MYSQL_DEADLOCK, "Deadlock found"))


async def test_after_the_last_attempt_the_deadlock_is_raised_and_nothing_was_written(sessions):
    attempts = []

    async def work(session) -> None:
        attempts.append(1)
        await session.execute(bump(1))
        raise deadlock_error()

    with pytest.raises(OperationalError):
        await in_transaction(sessions, work)
    assert len(attempts) == db.DEADLOCK_ATTEMPTS
    assert await values(sessions) == {1: 0, 2: 0}


async def test_other_errors_are_not_retried(sessions):
    attempts = []

    async def work(session) -> None:
        attempts.append(1)
        await session.execute(bump(1))
        raise OperationalError("SELECT 1", {}, Exception(2013, "Lost connection to server during query"))

    with pytest.raises(OperationalError):
        await in_transaction(sessions, work)
    assert attempts == [1]
    assert await values(sessions) == {1: 0, 2: 0}
