"""The crowd path's cache: one load per expiry however many requests wait, errors and
cancellations passed on correctly."""

from __future__ import annotations

import asyncio

import pytest

from services.seckill.catalog import Catalog


async def test_a_crowd_loads_once_and_keeps_serving_while_one_request_refreshes():
    catalog, calls = Catalog(seconds=0.05), []

    async def load():
        calls.append(1)
        await asyncio.sleep(0.02)
        return len(calls)

    first = await asyncio.gather(*(catalog._get("k", load) for _ in range(50)))
    assert set(first) == {1} and len(calls) == 1, "one load for fifty waiting requests"
    await asyncio.sleep(0.06)
    again = await asyncio.gather(*(catalog._get("k", load) for _ in range(50)))
    assert len(calls) == 2 and set(again) <= {1, 2}, "expired: one refresh, the others keep the old entry"


async def test_a_failed_load_reaches_every_waiting_request_and_a_cancelled_one_is_retried():
    catalog = Catalog(seconds=1)

    async def broken():
        await asyncio.sleep(0.01)
        raise ValueError("database down")

    results = await asyncio.gather(*(catalog._get("x", broken) for _ in range(5)), return_exceptions=True)
    assert all(isinstance(r, ValueError) for r in results)

    async def slow():
        await asyncio.sleep(0.05)
        return "loaded"

    loader = asyncio.create_task(catalog._get("y", slow))
    await asyncio.sleep(0.01)
    waiter = asyncio.create_task(catalog._get("y", slow))
    await asyncio.sleep(0.01)
    loader.cancel()
    assert await waiter == "loaded", "the waiting request loads it itself"
    with pytest.raises(asyncio.CancelledError):
        await loader
