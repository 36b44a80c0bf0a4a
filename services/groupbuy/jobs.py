"""Periodic work of the group-buy service, safe on several replicas and when repeated: every step
locks the group (or, for robot leaders, the activity) and re-checks before it changes anything."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI

from services.groupbuy import service

log = logging.getLogger("groupbuy.jobs")


async def run_once(gb: service.Groupbuy, now) -> dict[str, int]:
    released = await service.expire_holds(gb, now)
    completed, failed = await service.end_due_groups(gb, now)
    robots = await service.robots_join(gb, now)
    opened = await service.keep_groups_open(gb, now)
    return {"seats_released": released, "groups_completed_virtually": completed, "groups_failed": failed,
            "robots_joined": robots, "robot_groups_opened": opened}


async def groups_forever(app: FastAPI) -> None:
    while True:
        try:
            done = await run_once(app.state.groupbuy, app.state.clock.now())
            if any(done.values()):
                log.info("groupbuy jobs: %s", done)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("groupbuy jobs failed, retrying next round: %r", exc)
        await asyncio.sleep(app.state.settings.groupbuy_job_interval_seconds)
