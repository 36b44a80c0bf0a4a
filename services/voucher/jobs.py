"""Periodic work of the voucher service, safe on several replicas: every expiry is one conditional
statement (still active, still past its end)."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from services.voucher import flows
from shared.jobs import every

log = logging.getLogger("voucher.jobs")


async def expire_forever(app: FastAPI) -> None:
    async def round_() -> None:
        expired = await flows.expire_due(app.state.vouchers, app.state.clock.now())
        if expired:
            log.info("expired %d vouchers", expired)

    await every(lambda: app.state.settings.voucher_job_interval_seconds, round_, log, "voucher expiry job")
