"""Periodic work of the voucher service, safe on several replicas: every expiry is one conditional
statement (still active, still past its end)."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI

from services.voucher import flows

log = logging.getLogger("voucher.jobs")


async def expire_forever(app: FastAPI) -> None:
    while True:
        try:
            expired = await flows.expire_due(app.state.vouchers, app.state.clock.now())
            if expired:
                log.info("expired %d vouchers", expired)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("voucher expiry job failed, retrying next round: %r", exc)
        await asyncio.sleep(app.state.settings.voucher_job_interval_seconds)
