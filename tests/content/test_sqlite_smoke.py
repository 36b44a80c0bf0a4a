"""The embedded default (`make run` without DATABASE_URL) is SQLite: migrations and the main
flows must keep working there."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from services.content.main import create_app
from services.content.settings import ContentSettings
from shared.clock import FixedClock
from shared.migrations import upgrade
from tests.conftest import asgi_client


async def test_content_on_sqlite(tmp_path, infra, tokens):
    url = f"sqlite+aiosqlite:///{tmp_path}/not-yet/content.db"  # migrate creates the folder
    await asyncio.to_thread(upgrade, "content", url)
    await asyncio.to_thread(upgrade, "content", url)  # idempotent
    clock = FixedClock(datetime(2026, 11, 11, 0, 0, tzinfo=UTC))
    app = create_app(ContentSettings(_env_file=None, database_url=url, **infra), clock=clock)
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        category = (await client.post("/admin-api/content/article-categories", json={"name": "c"},
                                      headers=tokens["admin"])).json()
        assert category["created_at"] == "2026-11-11T00:00:00Z"  # the injected clock, back in UTC
        article = (await client.post("/admin-api/content/articles", json={
            "category_id": category["id"], "title": "t", "pic_url": "https://x/y.png", "content": "c"},
            headers=tokens["admin"])).json()
        views = await asyncio.gather(*(client.get(f"/app-api/content/articles/{article['id']}") for _ in range(5)))
        assert sorted(v.json()["browse_count"] for v in views) == [1, 2, 3, 4, 5]
        refused = await client.delete(f"/admin-api/content/article-categories/{category['id']}",
                                      headers=tokens["admin"])
        assert refused.status_code == 409
        assert (await client.get("/readyz")).json()["checks"]["database"] == "ok"
