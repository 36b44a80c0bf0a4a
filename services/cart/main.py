"""Cart service app: `uvicorn services.cart.main:create_app --factory --port 8008`."""

from __future__ import annotations

import contextlib

from fastapi import FastAPI

from services.cart import consumers, jobs, models
from services.cart.api import app
from services.cart.clients import PricingClient
from services.cart.flows import CartContext
from services.cart.settings import CartSettings
from shared.app import Messaging, create_service_app
from shared.clock import Clock
from shared.db import make_sessionmaker, read_committed
from shared.http import ServiceClient, outbound_service_token


@contextlib.asynccontextmanager
async def cart_context(app: FastAPI):
    """READ COMMITTED sessions for everything the service does (repository.py says why), and the
    pricing client, for the app's lifetime."""
    settings: CartSettings = app.state.settings
    app.state.sessionmaker = make_sessionmaker(read_committed(app.state.engine))
    token = outbound_service_token(settings, "cart", settings.service_token.get_secret_value())
    timeout = settings.dependency_timeout_seconds
    pricing = PricingClient(ServiceClient("pricing", settings.pricing_url, token, timeout_seconds=timeout),
                            ServiceClient("pricing", settings.pricing_url, "", timeout_seconds=timeout))
    app.state.cart = CartContext(engine=app.state.engine, pricing=pricing)
    try:
        yield
    finally:
        await pricing.close()


def create_app(settings: CartSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(
        settings or CartSettings(),
        title="Promotion Center: cart",
        description="Device (anonymous) and member carts, merge on login, the cart page priced by pricing's quote.",
        routers=[app.router],
        messaging=Messaging(outbox=models.outbox, inbox=models.inbox, handlers=consumers.HANDLERS),
        jobs=[jobs.expire_forever],
        resources=[cart_context],
        clock=clock,
    )
