"""shared.jobs.every: rounds keep coming after a failure, and stopping never cuts a round in half."""

from __future__ import annotations

import asyncio
import logging

from shared.jobs import every

log = logging.getLogger("test.jobs")


async def test_a_failing_round_is_logged_and_the_next_one_runs(caplog):
    rounds: list[int] = []
    third = asyncio.Event()

    async def round_() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 3:
            third.set()
        if len(rounds) == 1:
            raise RuntimeError("the database went away")

    task = asyncio.create_task(every(lambda: 0.01, round_, log, "test job"))
    await asyncio.wait_for(third.wait(), 5)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert "test job failed" in caplog.text and len(rounds) >= 3


async def test_stopping_waits_for_the_round_in_progress():
    finished: list[str] = []
    started = asyncio.Event()

    async def round_() -> None:
        started.set()
        await asyncio.sleep(0.2)  # a query in flight
        finished.append("committed")

    task = asyncio.create_task(every(lambda: 60, round_, log, "test job"))
    await started.wait()
    task.cancel()
    results = await asyncio.gather(task, return_exceptions=True)
    assert isinstance(results[0], asyncio.CancelledError)
    assert finished == ["committed"], "the round ran to its end before the job stopped"
