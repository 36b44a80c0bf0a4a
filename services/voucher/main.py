"""Voucher service app: `uvicorn services.voucher.main:create_app --factory --port 8007`."""

from __future__ import annotations

import contextlib
from zoneinfo import ZoneInfo

from fastapi import FastAPI

from services.voucher import consumers, jobs, models
from services.voucher.api import admin, app, merchant
from services.voucher.flows import Vouchers
from services.voucher.settings import VoucherSettings
from shared.app import Messaging, create_service_app
from shared.clock import Clock
from shared.db import make_sessionmaker, read_committed


@contextlib.asynccontextmanager
async def voucher_context(app: FastAPI):
    settings: VoucherSettings = app.state.settings
    app.state.vouchers = Vouchers(sessions=make_sessionmaker(read_committed(app.state.engine)),
                                  zone=ZoneInfo(settings.business_timezone),
                                  reversal_minutes=settings.voucher_reversal_minutes)
    yield


def create_app(settings: VoucherSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or VoucherSettings()
    return create_service_app(
        settings,
        title="Promotion Center: voucher",
        description="Multi-use stored-value vouchers (核销): stores, voucher products with pre-review, vouchers "
                    "issued on payment, stores near me, staff verification and reversal, reports.",
        routers=[app.router, merchant.router, admin.router],
        messaging=Messaging(outbox=models.outbox, inbox=models.inbox,
                            handlers=consumers.handlers(ZoneInfo(settings.business_timezone))),
        jobs=[jobs.expire_forever],
        resources=[voucher_context],
        clock=clock,
    )
