"""Group-buy service app: `uvicorn services.groupbuy.main:create_app --factory --port 8003`."""

from __future__ import annotations

import contextlib

from fastapi import FastAPI

from services.groupbuy import consumers, jobs, models
from services.groupbuy.api import admin, app, internal, merchant
from services.groupbuy.flows import Groupbuy
from services.groupbuy.groups import Robots
from services.groupbuy.settings import GroupbuySettings
from shared.app import Messaging, create_service_app
from shared.clock import Clock


@contextlib.asynccontextmanager
async def groupbuy_context(app: FastAPI):
    settings: GroupbuySettings = app.state.settings
    robots = Robots(tuple(settings.groupbuy_robot_nicknames), settings.groupbuy_robot_avatar)
    app.state.groupbuy = Groupbuy(sessions=app.state.sessionmaker, hold_seconds=settings.groupbuy_hold_seconds,
                                  robots=robots)
    yield


def create_app(settings: GroupbuySettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(
        settings or GroupbuySettings(),
        title="Promotion Center: groupbuy",
        description="Group-buy (拼团) activities, leader price, groups and members, robots and virtual completion.",
        routers=[app.router, merchant.router, admin.router, internal.router],
        messaging=Messaging(outbox=models.outbox, inbox=models.inbox, handlers=consumers.HANDLERS),
        jobs=[jobs.groups_forever],
        resources=[groupbuy_context],
        clock=clock,
    )
