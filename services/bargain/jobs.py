"""Periodic work of the bargain service, safe on several replicas and when repeated: every step
locks the record (or the order's record and hold) and re-checks before it changes anything."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI

from services.bargain import flows
from shared.jobs import every

log = logging.getLogger("bargain.jobs")

STEPS = (("records_failed", flows.fail_due_records), ("holds_released", flows.expire_holds))


async def run_once(bg: flows.Bargain, now) -> dict[str, int]:
    """Each step on its own: one that fails is logged and the others still run."""
    done: dict[str, int] = {}
    for name, step in STEPS:
        try:
            done[name] = await step(bg, now)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("bargain job %s failed, retrying next round: %r", name, exc)
    return done


async def records_forever(app: FastAPI) -> None:
    async def round_() -> None:
        done = await run_once(app.state.bargain, app.state.clock.now())
        if any(done.values()):
            log.info("bargain jobs: %s", done)

    await every(lambda: app.state.settings.bargain_job_interval_seconds, round_, log, "bargain jobs")
