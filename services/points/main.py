"""Points mall service app: `uvicorn services.points.main:create_app --factory --port 8005`."""

from __future__ import annotations

import contextlib

from fastapi import FastAPI

from services.points import consumers, jobs, models
from services.points.api import admin, app, internal, merchant
from services.points.flows import Points
from services.points.settings import PointsSettings
from shared.app import Messaging, create_service_app
from shared.clock import Clock


@contextlib.asynccontextmanager
async def points_context(app: FastAPI):
    settings: PointsSettings = app.state.settings
    app.state.points = Points(sessions=app.state.sessionmaker, hold_seconds=settings.points_hold_seconds)
    yield


def create_app(settings: PointsSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(
        settings or PointsSettings(),
        title="Promotion Center: points",
        description="Points mall (积分商城): SKUs for points plus cash, their stock and per-buyer limits, "
                    "held at checkout.",
        routers=[app.router, merchant.router, admin.router, internal.router],
        messaging=Messaging(outbox=models.outbox, inbox=models.inbox, handlers=consumers.HANDLERS),
        jobs=[jobs.holds_forever],
        resources=[points_context],
        clock=clock,
    )
