"""What the replica tests share: clients spreading requests over the processes, and waiting for
what the processes' jobs do."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime

import httpx

from tests.conftest import client_on_clean_tables, replica_processes

FACTORY = "tests.replicas.replica:{service}"


@contextlib.asynccontextmanager
async def spread(urls: list[str]) -> AsyncIterator[Callable[[int], httpx.AsyncClient]]:
    """`pick(n)`: the client of the n-th request's process, round robin."""
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    clients = [httpx.AsyncClient(base_url=url, limits=limits, timeout=60) for url in urls]
    try:
        yield lambda n: clients[n % len(clients)]
    finally:
        for client in clients:
            await client.aclose()


def error_code(answer: httpx.Response) -> str:
    return answer.json().get("error", {}).get("code", str(answer.status_code))


def system_now() -> datetime:
    """The replicas' clock (the system's)."""
    return datetime.now(UTC).replace(microsecond=0)


@contextlib.contextmanager
def on_system_time(app) -> Iterator[None]:
    """The in-process app's test clock at the replicas' time while the block runs, then back where
    its own tests expect it."""
    before = app.state.test_clock.at
    app.state.test_clock.at = system_now()
    try:
        yield
    finally:
        app.state.test_clock.at = before


@contextlib.asynccontextmanager
async def client_on_system_time(app, metadata) -> AsyncIterator[httpx.AsyncClient]:
    """The in-process app's client, its tables cleaned and its clock at the replicas' time."""
    with on_system_time(app):
        async with client_on_clean_tables(app, metadata) as client:
            yield client


async def until(done: Callable[[], bool | Awaitable[bool]], seconds: float = 30) -> float:
    """Waits for `done()` (awaited if it returns an awaitable); the seconds it took."""
    started = time.monotonic()
    while not await _value(done()):
        assert time.monotonic() - started < seconds, f"not done after {seconds} s"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def _value(result):
    return await result if inspect.isawaitable(result) else result


def done_by_process(output: str, count: str) -> dict[int, int]:
    """What the replicas' log lines (`replica <pid> ...`) say each process did: the sum of `count`'s
    group (a regular expression, e.g. `'holds_released': (\\d+)`) by process."""
    done: dict[int, int] = {}
    for pid, n in re.findall(rf"^replica (\d+) .*{count}", output, re.MULTILINE):
        done[int(pid)] = done.get(int(pid), 0) + int(n)
    return done


@contextlib.contextmanager
def jobs_on_two_processes(settings, service: str) -> Iterator[list[str]]:
    """Two processes of `service` with its periodic jobs, one every 0.05 s, the other every 0.08 s,
    logging which process did what. Equal periods lock in step: a job whose round waited on the
    other's row locks sleeps again from the same moment, wakes just after it and finds nothing,
    round after round; unequal ones drift apart, and each wakes first some of the time."""
    env = {"REPLICA_JOBS": "1", "LOG_LEVEL": "INFO"}
    interval = f"{service.upper()}_JOB_INTERVAL_SECONDS"
    factory = FACTORY.format(service=service)
    with replica_processes(settings, factory, 1, {**env, interval: "0.05"}) as first, \
            replica_processes(settings, factory, 1, {**env, interval: "0.08"}) as second:
        yield first + second


class JobLogs:
    """What the replicas' jobs log (stderr captured by `capfd`), read as it comes: by process, the
    sum of `count`'s group (see `done_by_process`)."""

    def __init__(self, capfd, count: str) -> None:
        self.capfd, self.count, self.err = capfd, count, ""

    def by_process(self) -> dict[int, int]:
        self.err += self.capfd.readouterr().err
        return done_by_process(self.err, self.count)


async def make_due_while_jobs_run(logs: JobLogs, make: Callable[[int], Awaitable[None]], at_least: int,
                                  at_most: int, pause: float = 0.1) -> int:
    """Makes work come due for both processes' jobs (`make(n)` for n = 0, 1, ...): `at_least` of it,
    then one more every `pause` s until each process has logged a share of it, `at_most` in all (on
    a starved machine one process's job may sleep through the first). How many were made."""
    made = 0
    while made < at_least or (len(logs.by_process()) < 2 and made < at_most):
        await make(made)
        made += 1
        if made >= at_least:
            await asyncio.sleep(pause)
    return made
