"""The pricing service's outbound identity: a configured service token, or a dev one in dev/test."""

from __future__ import annotations

import pytest

from services.pricing.main import create_app
from services.pricing.settings import PricingSettings
from shared.auth import Role, TokenVerifier
from shared.http import outbound_service_token

PROD = {"env": "prod", "jwt_secret": "p" * 40, "database_url": "sqlite+aiosqlite:///:memory:"}


def test_dev_signs_its_own_service_token_prod_needs_one():
    dev = PricingSettings(_env_file=None, env="test")
    principal = TokenVerifier(dev).verify(outbound_service_token(dev, "pricing", ""))
    assert principal.role is Role.SERVICE and principal.subject == "promo-pricing"
    prod = PricingSettings(_env_file=None, **PROD)
    assert outbound_service_token(prod, "pricing", "issued.by.idp") == "issued.by.idp"
    with pytest.raises(RuntimeError, match="SERVICE_TOKEN"):
        outbound_service_token(prod, "pricing", "")


async def test_prod_app_refuses_to_start_without_a_service_token(infra):
    app = create_app(PricingSettings(_env_file=None, **{**infra, **PROD}))
    with pytest.raises(RuntimeError, match="SERVICE_TOKEN"):
        async with app.router.lifespan_context(app):
            pass
