"""Content service app: `uvicorn services.content.main:create_app --factory --port 8009`."""

from __future__ import annotations

from fastapi import FastAPI

from services.content import consumers, models
from services.content.api import admin, app
from services.content.settings import ContentSettings
from shared.app import Messaging, create_service_app
from shared.clock import Clock


def create_app(settings: ContentSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(
        settings or ContentSettings(),
        title="Promotion Center: content",
        description="Article categories, articles and banners for the mall's pages.",
        routers=[app.router, admin.router],
        messaging=Messaging(outbox=models.outbox, inbox=models.inbox, handlers=consumers.HANDLERS),
        clock=clock,
    )
