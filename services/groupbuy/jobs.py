"""Periodic work of the group-buy service, safe on several replicas and when repeated: every step
locks the group (or, for robot leaders, the activity) and re-checks before it changes anything."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI

from services.groupbuy import flows
from shared.jobs import every

log = logging.getLogger("groupbuy.jobs")


STEPS = (("seats_released", flows.expire_holds), ("groups_ended", flows.end_due_groups),
         ("robots_joined", flows.robots_join), ("robot_groups_opened", flows.keep_groups_open))


async def run_once(gb: flows.Groupbuy, now) -> dict[str, object]:
    """Each step on its own: one that fails (a deadlock, a lost connection) is logged and the
    others still run; the next round tries it again."""
    done: dict[str, object] = {}
    for name, step in STEPS:
        try:
            done[name] = await step(gb, now)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("groupbuy job %s failed, retrying next round: %r", name, exc)
    return done


async def groups_forever(app: FastAPI) -> None:
    async def round_() -> None:
        done = await run_once(app.state.groupbuy, app.state.clock.now())
        if any(value not in (0, (0, 0)) for value in done.values()):
            log.info("groupbuy jobs: %s", done)

    await every(lambda: app.state.settings.groupbuy_job_interval_seconds, round_, log, "groupbuy jobs")
