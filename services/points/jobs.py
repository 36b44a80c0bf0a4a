"""Periodic work of the points service, safe on several replicas and when repeated: every hold is
locked and re-checked before it changes."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI

from services.points import flows
from shared.jobs import every

log = logging.getLogger("points.jobs")


async def run_once(pm: flows.Points, now) -> dict[str, int]:
    done: dict[str, int] = {}
    try:
        done["holds_released"] = await flows.expire_holds(pm, now)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.warning("points job failed, retrying next round: %r", exc)
    return done


async def holds_forever(app: FastAPI) -> None:
    async def round_() -> None:
        done = await run_once(app.state.points, app.state.clock.now())
        if any(done.values()):
            log.info("points jobs: %s", done)

    await every(lambda: app.state.settings.points_job_interval_seconds, round_, log, "points jobs")
