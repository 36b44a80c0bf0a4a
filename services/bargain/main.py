"""Bargain service app: `uvicorn services.bargain.main:create_app --factory --port 8004`."""

from __future__ import annotations

import contextlib

from fastapi import FastAPI

from services.bargain import consumers, jobs, models
from services.bargain.api import admin, app, internal, merchant
from services.bargain.flows import Bargain
from services.bargain.settings import BargainSettings
from shared.app import Messaging, create_service_app
from shared.clock import Clock


@contextlib.asynccontextmanager
async def bargain_context(app: FastAPI):
    settings: BargainSettings = app.state.settings
    app.state.bargain = Bargain(sessions=app.state.sessionmaker,
                                lifetime_seconds=settings.bargain_record_lifetime_seconds,
                                hold_seconds=settings.bargain_hold_seconds)
    yield


def create_app(settings: BargainSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(
        settings or BargainSettings(),
        title="Promotion Center: bargain",
        description="Bargain (砍价) activities, buyers' records, friends' helps, bargained prices at checkout.",
        routers=[app.router, merchant.router, admin.router, internal.router],
        messaging=Messaging(outbox=models.outbox, inbox=models.inbox, handlers=consumers.HANDLERS),
        jobs=[jobs.records_forever],
        resources=[bargain_context],
        clock=clock,
    )
