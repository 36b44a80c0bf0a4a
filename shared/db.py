"""Database plumbing: engine, sessions, the naming convention and column types.

The transaction belongs to whoever runs the unit of work: the request dependency
(`Session` below) or the consumer runner. Service code may `flush()`, never `commit()`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    event,
    make_url,
    text,
    update,
)
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def make_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


def mutex_table(metadata: MetaData, prefix: str) -> Table:
    """Named locks, one row each (made by the service's migration): see `take_mutex`."""
    return Table(f"{prefix}_mutex", metadata,
                 Column("name", String(32), primary_key=True),
                 Column("version", BigInteger, nullable=False, default=0, server_default="0"))


async def take_mutex(session: AsyncSession, table: Table, name: str) -> None:
    """Hold the named lock until the transaction ends, for writes that check then insert (an
    activity's conflict check: two concurrent creates would each see no conflict). An UPDATE of
    one existing row: a plain row lock, no gap locks. Bumps `version`, which readers may watch."""
    result = await session.execute(update(table).where(table.c.name == name).values(version=table.c.version + 1)
                                   .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise RuntimeError(f"{table.name} row {name!r} is missing: run the migrations")


MYSQL_DEADLOCK = 1213


def is_deadlock(error: OperationalError) -> bool:
    """MySQL/MariaDB chose this transaction as a deadlock's victim and rolled it back: running it
    again is the documented answer (InnoDB "How to Minimize and Handle Deadlocks")."""
    args = getattr(error.orig, "args", ())
    return bool(args) and args[0] == MYSQL_DEADLOCK


T = TypeVar("T")
DEADLOCK_ATTEMPTS = 3


async def in_transaction(sessions: async_sessionmaker[AsyncSession], work: Callable[[AsyncSession], Awaitable[T]],
                         attempts: int = DEADLOCK_ATTEMPTS) -> T:
    """`work` in a transaction of its own, run again from the start in a new one when MySQL picked
    it as a deadlock's victim (rolled back whole, so nothing of the failed attempt stays); the last
    attempt's error is raised."""
    for attempt in range(1, attempts + 1):
        try:
            async with sessions() as session, session.begin():
                return await work(session)
        except OperationalError as error:
            if attempt == attempts or not is_deadlock(error):
                raise
    raise AssertionError("unreachable")


# BIGINT on MySQL, INTEGER on SQLite (where only INTEGER PRIMARY KEY autoincrements).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (MySQL DATETIME has no zone), returned aware in UTC."""

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=False)

    def load_dialect_impl(self, dialect):
        if dialect.name == "mysql":
            from sqlalchemy.dialects.mysql import DATETIME

            return dialect.type_descriptor(DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


# A connection idle longer than this is pinged before it is used again (a dead one is replaced).
PING_AFTER_IDLE_SECONDS = 1.0


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False,
                  ping_after_idle: float = PING_AFTER_IDLE_SECONDS) -> AsyncEngine:
    if make_url(url).get_backend_name() == "sqlite":
        _ensure_sqlite_folder(url)
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800,
                                 pool_reset_on_return=None)
    _lean_checkouts(engine, ping_after_idle)
    return engine


def _lean_checkouts(engine: AsyncEngine, ping_after_idle: float) -> None:
    """Two round trips fewer per checkout than pre-ping and rollback-on-return, the same guarantees
    (measured in bench/results/pricing.md: they were a fifth of a small quote's database CPU):

    - ping only a connection that has sat idle longer than `ping_after_idle`: connections die
      idle (server or proxy timeouts, a restart while the service is quiet), and a busy pool pays
      no ping. A dead one fails its ping and is replaced before use (DisconnectionError: the
      pool's documented way), as with pre-ping; one that died while busy fails its statement,
      which invalidates the whole pool, so every other connection reconnects (as with pre-ping);
    - roll back on return only a connection the server says is inside a transaction: the
      Connection already committed or rolled back its own, so this is the safety net for one
      left open below it (the driver's transaction status: the server's status flags)."""
    dialect = engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _idle_since(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since <= ping_after_idle:
            return  # new, or in use a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            if isinstance(error, dialect.loaded_dbapi.Error) and not dialect.is_disconnect(error, dbapi_connection,
                                                                                             None):
                raise
            raise DisconnectionError("the connection was found dead after being idle") from error

    @event.listens_for(engine.sync_engine, "reset")
    def _rollback_if_in_transaction(dbapi_connection, _record, state) -> None:
        if state.terminate_only or not state.asyncio_safe or state.transaction_was_reset:
            return
        driver = getattr(dbapi_connection, "driver_connection", dbapi_connection)
        in_transaction = getattr(driver, "get_transaction_status", None)
        if in_transaction is None or in_transaction():
            dbapi_connection.rollback()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def read_committed(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, with READ COMMITTED transactions on MySQL/MariaDB: no gap locks, and rows
    other transactions have not committed are skipped rather than waited for. For plumbing that
    scans shared tables (the outbox relay), so it never holds up business transactions."""
    if engine.dialect.name != "mysql":
        return engine
    return engine.execution_options(isolation_level="READ COMMITTED")


def _ensure_sqlite_folder(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


async def ensure_database(url: str) -> None:
    """Create the database named in `url` if it is missing (for SQLite: its folder)."""
    _ensure_sqlite_folder(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "mysql" or not parsed.database:
        return
    name = parsed.database
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unexpected database name {name!r}")
    engine = create_async_engine(parsed.set(database=""), pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(
                f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    finally:
        await engine.dispose()


async def session_scope(request: Request) -> AsyncIterator[AsyncSession]:
    """One session and one transaction per request: committed when the route returns,
    rolled back when it raises. Scope "function" makes the commit happen before the
    response is sent, so a failed commit is the client's error, not a silent loss."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session, session.begin():
        yield session


Session = Annotated[AsyncSession, Depends(session_scope, scope="function")]


async def _sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    return request.app.state.sessionmaker


# For flows, which open and commit their own transactions (a checkout calls other services between them).
Sessions = Annotated[async_sessionmaker[AsyncSession], Depends(_sessions)]
