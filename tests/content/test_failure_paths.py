"""What clients get when things go wrong: out-of-range ids, unexpected errors, late failures."""

from __future__ import annotations

import pytest
from fastapi import APIRouter
from sqlalchemy import func, select

from services.content import service
from services.content.models import ArticleCategory
from services.content.schemas import CategoryIn
from shared.db import Session
from shared.deps import Now
from shared.errors import Conflict

HUGE = "99999999999999999999"


@pytest.fixture(scope="module")
def failing_routes(content_app):
    router = APIRouter(prefix="/test-only")

    @router.get("/boom")
    async def boom():
        raise RuntimeError("a bug")

    @router.post("/create-then-conflict")
    async def create_then_conflict(session: Session, now: Now):
        await service.create_category(session, CategoryIn(name="written then rolled back"), now)
        raise Conflict()

    content_app.include_router(router)
    return content_app


@pytest.mark.parametrize("method, path, body", [
    ("GET", f"/app-api/content/articles/{HUGE}", None),
    ("GET", f"/app-api/content/articles?category_id={HUGE}", None),
    ("POST", f"/app-api/content/banners/{HUGE}/clicks", None),
    ("GET", f"/admin-api/content/article-categories/{HUGE}", None),
    ("DELETE", "/admin-api/content/banners/0", None),
    ("POST", "/admin-api/content/articles", {"category_id": int(HUGE), "title": "t", "pic_url": "https://x/y.png",
                                             "content": "c"}),
    ("POST", "/admin-api/content/articles", {"category_id": 1, "title": "t", "pic_url": "https://x/y.png",
                                             "content": "c", "spu_id": 2**63}),
])
async def test_out_of_range_ids_are_422_not_500(client, tokens, method, path, body):
    response = await client.request(method, path, json=body, headers=tokens["admin"])
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "VALIDATION_FAILED"


async def test_unexpected_error_is_a_500_with_the_standard_body_and_request_id(failing_routes, client):
    response = await client.get("/test-only/boom", headers={"X-Request-Id": "trace-500", "Accept-Language": "en"})
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "INTERNAL_ERROR", "message": "Internal error", "details": {}}}
    assert response.headers["x-request-id"] == "trace-500"


async def test_a_failure_after_a_flush_leaves_nothing_written(failing_routes, client, content_app):
    response = await client.post("/test-only/create-then-conflict")
    assert response.status_code == 409
    async with content_app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ArticleCategory)) == 0


async def test_the_foreign_key_refuses_a_category_delete_that_raced_an_article_insert(client, tokens, content_app,
                                                                                      monkeypatch):
    from services.content import repository
    from services.content.domain import CategoryHasArticles
    from tests.content.test_api import make_article, make_category

    category = await make_category(client, tokens)
    await make_article(client, tokens, category["id"])

    async def article_added_after_the_check(session, category_id):
        return False  # what the check saw a moment before another admin added the article

    monkeypatch.setattr(repository, "category_has_articles", article_added_after_the_check)
    with pytest.raises(CategoryHasArticles):
        async with content_app.state.sessionmaker() as session, session.begin():
            await service.delete_category(session, category["id"])
    assert (await client.get(f"/admin-api/content/article-categories/{category['id']}",
                             headers=tokens["admin"])).status_code == 200
