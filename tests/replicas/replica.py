"""Replicas for tests that run a service as separate processes (`uvicorn
tests.replicas.replica:points --factory`): the service's own app, its settings from the
environment, on the system clock, without the outbox relay and the consumers (the test's in-process
app has those; a second member of a service's consumer group would take the other tests' events).
With REPLICA_JOBS=1 in the environment the service's periodic jobs run too, and each log line
starts with `replica <pid>` (a test reads which process did what from the jobs' logs)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

from fastapi import FastAPI

from services.bargain.main import create_app as create_bargain
from services.bargain.settings import BargainSettings
from services.coupon.main import create_app as create_coupon
from services.coupon.settings import CouponSettings
from services.groupbuy.main import create_app as create_groupbuy
from services.groupbuy.settings import GroupbuySettings
from services.points.main import create_app as create_points
from services.points.settings import PointsSettings
from services.pricing.main import create_app as create_pricing
from services.pricing.settings import PricingSettings
from services.seckill.main import create_app as create_seckill
from services.seckill.settings import SeckillSettings
from services.voucher.main import create_app as create_voucher
from services.voucher.settings import VoucherSettings


@contextlib.asynccontextmanager
async def jobs_running(app: FastAPI):
    """The app's jobs, as its lifespan starts them when `background` is on."""
    tasks = [asyncio.create_task(job(app)) for job in app.state.jobs]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _replica(create_app, settings_class) -> FastAPI:
    app = create_app(settings_class(_env_file=None))
    app.state.background = False
    if os.environ.get("REPLICA_JOBS") == "1":
        app.state.resources.append(jobs_running)  # entered after the service's own resources
        for handler in logging.getLogger().handlers:
            handler.setFormatter(logging.Formatter("replica %(process)d %(name)s %(message)s"))
    return app


def bargain() -> FastAPI:
    return _replica(create_bargain, BargainSettings)


def coupon() -> FastAPI:
    return _replica(create_coupon, CouponSettings)


def groupbuy() -> FastAPI:
    return _replica(create_groupbuy, GroupbuySettings)


def points() -> FastAPI:
    return _replica(create_points, PointsSettings)


def pricing() -> FastAPI:
    return _replica(create_pricing, PricingSettings)


def seckill() -> FastAPI:
    return _replica(create_seckill, SeckillSettings)


def voucher() -> FastAPI:
    return _replica(create_voucher, VoucherSettings)
