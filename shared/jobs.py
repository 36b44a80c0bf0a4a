"""Periodic work: one round every few seconds for as long as the service runs.

A round that fails (a deadlock, a lost connection) is logged and the next one tries again. A round
in progress is never cut off half-way when the service stops (a query cancelled mid-flight leaves
its connection out of the pool): stopping waits for it, up to `STOP_WAIT_SECONDS`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

STOP_WAIT_SECONDS = 10


async def every(seconds: Callable[[], float], round_: Callable[[], Awaitable[None]], log: logging.Logger,
                what: str, *, wait_first: bool = False) -> None:
    """Run `round_` every `seconds()` (read each time, so tests may change it), forever."""
    if wait_first:
        await asyncio.sleep(seconds())
    while True:
        running = asyncio.ensure_future(round_())
        try:
            await asyncio.shield(running)
        except asyncio.CancelledError:
            if not running.done():
                await asyncio.wait([running], timeout=STOP_WAIT_SECONDS)
            raise
        except Exception as exc:
            log.warning("%s failed, trying again next round: %r", what, exc)
        await asyncio.sleep(seconds())
