from __future__ import annotations

import pytest

from services.content.main import create_app
from services.content.models import Base
from services.content.settings import ContentSettings
from tests.conftest import asgi_client, clear_tables, migrated_database


@pytest.fixture(scope="session")
async def content_app(infra):
    url = await migrated_database("content")
    app = create_app(ContentSettings(_env_file=None, database_url=url, **infra))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(content_app):
    await clear_tables(content_app.state.engine, Base.metadata)
    async with asgi_client(content_app) as client:
        yield client
