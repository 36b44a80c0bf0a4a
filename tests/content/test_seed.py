"""The demo seed (`make run`, `promo seed`): once on an empty service, never over existing data."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from services.content.models import Article, ArticleCategory, Banner
from services.content.seed import seed_demo

NOW = datetime(2026, 11, 22, 2, 30, tzinfo=UTC)


async def counts(app) -> tuple[int, int, int]:
    async with app.state.sessionmaker() as session:
        return tuple([await session.scalar(select(func.count()).select_from(model))
                      for model in (ArticleCategory, Article, Banner)])


async def seed(app) -> bool:
    async with app.state.sessionmaker() as session, session.begin():
        return await seed_demo(session, NOW)


async def test_the_demo_is_added_once(client, content_app):
    assert await seed(content_app)
    assert await counts(content_app) == (2, 4, 5)
    assert not await seed(content_app)
    assert await counts(content_app) == (2, 4, 5)


async def test_no_demo_over_existing_banners_without_categories(client, tokens, content_app):
    made = await client.post("/admin-api/content/banners", headers=tokens["admin"], json={
        "title": "我的轮播", "pic_url": "https://cdn.example.com/b.png", "url": "/pages/index", "position": 1})
    assert made.status_code == 201, made.text
    assert not await seed(content_app)
    assert await counts(content_app) == (0, 0, 1)
