from __future__ import annotations

import pytest

from services.content.main import create_app
from services.content.models import Base
from services.content.settings import ContentSettings
from tests.conftest import client_on_clean_tables, running_service


@pytest.fixture(scope="session")
async def content_app(infra):
    async with running_service("content", create_app, ContentSettings, infra) as app:
        yield app


@pytest.fixture
async def client(content_app):
    async with client_on_clean_tables(content_app, Base.metadata) as client:
        yield client
