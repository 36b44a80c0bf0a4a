"""`promo run`'s database preparation, on SQLite as `make run` uses it."""

from __future__ import annotations

import asyncio

from sqlalchemy import delete, func, select

from promo.databases import prepare
from services.content.models import Banner, Base
from shared.db import create_engine


async def count_banners(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.scalar(select(func.count()).select_from(Banner))
    finally:
        await engine.dispose()


async def delete_everything(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                await connection.execute(delete(table))
    finally:
        await engine.dispose()


def test_demo_data_goes_into_new_databases_only(tmp_path, monkeypatch):
    """An operator who deleted the demo data does not get it back at the next start."""
    monkeypatch.setenv("ENV", "test")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/{{service}}.db")
    url = f"sqlite+aiosqlite:///{tmp_path}/content.db"
    assert prepare(["content"], demo=True) == ["content"]
    assert asyncio.run(count_banners(url)) > 0
    asyncio.run(delete_everything(url))
    assert prepare(["content"], demo=True) == []
    assert asyncio.run(count_banners(url)) == 0
