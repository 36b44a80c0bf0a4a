"""Content service over HTTP against real MariaDB, Redis and the broker."""

from __future__ import annotations

import asyncio
import re

import pytest

CATEGORIES = "/admin-api/content/article-categories"
ARTICLES = "/admin-api/content/articles"
BANNERS = "/admin-api/content/banners"
PIC = "https://cdn.example.com/a.png"


async def make_category(client, tokens, **overrides) -> dict:
    body = {"name": "公告", "pic_url": PIC, "sort": 1, **overrides}
    response = await client.post(CATEGORIES, json=body, headers=tokens["admin"])
    assert response.status_code == 201, response.text
    return response.json()


async def make_article(client, tokens, category_id: int, **overrides) -> dict:
    body = {"category_id": category_id, "title": "双十一活动说明", "pic_url": PIC, "content": "<p>hi</p>", **overrides}
    response = await client.post(ARTICLES, json=body, headers=tokens["admin"])
    assert response.status_code == 201, response.text
    return response.json()


async def make_banner(client, tokens, **overrides) -> dict:
    body = {"title": "新人券", "pic_url": PIC, "url": "/pages/coupon", "position": 1, **overrides}
    response = await client.post(BANNERS, json=body, headers=tokens["admin"])
    assert response.status_code == 201, response.text
    return response.json()


# --- admin: categories --------------------------------------------------------------------------

async def test_category_crud_round_trip(client, tokens):
    created = await make_category(client, tokens, name="  指南 ")
    assert created["name"] == "指南" and created["status"] == 0
    url = f"{CATEGORIES}/{created['id']}"
    updated = await client.put(url, json={"name": "购物指南", "status": 1, "sort": 5}, headers=tokens["admin"])
    assert updated.status_code == 200
    assert (await client.get(url, headers=tokens["admin"])).json()["name"] == "购物指南"
    assert (await client.delete(url, headers=tokens["admin"])).status_code == 204
    missing = await client.get(url, headers=tokens["admin"])
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "ARTICLE_CATEGORY_NOT_FOUND"


async def test_category_with_articles_cannot_be_deleted(client, tokens):
    category = await make_category(client, tokens)
    await make_article(client, tokens, category["id"])
    response = await client.delete(f"{CATEGORIES}/{category['id']}", headers=tokens["admin"])
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "ARTICLE_CATEGORY_HAS_ARTICLES"
    assert (await client.get(f"{CATEGORIES}/{category['id']}", headers=tokens["admin"])).status_code == 200


@pytest.mark.parametrize("body, field", [
    ({"name": ""}, "name"),
    ({"name": "x" * 65}, "name"),
    ({"name": "ok", "status": 7}, "status"),
    ({"name": "ok", "sort": -1}, "sort"),
    ({"name": "ok", "pic_url": "ftp://x"}, "pic_url"),
    ({"name": "ok", "unknown": 1}, "unknown"),
    ({}, "name"),
])
async def test_category_validation_is_422_with_field(client, tokens, body, field):
    response = await client.post(CATEGORIES, json=body, headers=tokens["admin"])
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_FAILED"
    assert any(field in entry["loc"] for entry in error["details"]["errors"])


async def test_category_page_filters_and_paginates(client, tokens):
    for index in range(5):
        await make_category(client, tokens, name=f"分类{index}", sort=index, status=index % 2)
    page = (await client.get(CATEGORIES, params={"page": 2, "size": 2}, headers=tokens["admin"])).json()
    assert page["total"] == 5 and page["page"] == 2 and [c["name"] for c in page["items"]] == ["分类2", "分类3"]
    enabled = (await client.get(CATEGORIES, params={"status": 0}, headers=tokens["admin"])).json()
    assert {c["name"] for c in enabled["items"]} == {"分类0", "分类2", "分类4"}
    by_name = (await client.get(CATEGORIES, params={"name": "类3"}, headers=tokens["admin"])).json()
    assert [c["name"] for c in by_name["items"]] == ["分类3"]
    too_big = await client.get(CATEGORIES, params={"size": 101}, headers=tokens["admin"])
    assert too_big.status_code == 422


async def test_name_search_treats_percent_literally(client, tokens):
    await make_category(client, tokens, name="100%好评")
    await make_category(client, tokens, name="其他")
    found = (await client.get(CATEGORIES, params={"name": "%"}, headers=tokens["admin"])).json()
    assert [c["name"] for c in found["items"]] == ["100%好评"]


# --- admin: articles ----------------------------------------------------------------------------

async def test_article_with_unknown_category_is_rejected(client, tokens):
    response = await client.post(ARTICLES, json={"category_id": 999999, "title": "t", "pic_url": PIC,
                                                 "content": "c"}, headers=tokens["admin"])
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "ARTICLE_CATEGORY_UNKNOWN", "message": "文章分类 999999 不存在", "details": {"category_id": 999999}}


async def test_failed_article_update_writes_nothing(client, tokens):
    category = await make_category(client, tokens)
    article = await make_article(client, tokens, category["id"], title="原标题")
    response = await client.put(f"{ARTICLES}/{article['id']}", json={
        "category_id": 424242, "title": "新标题", "pic_url": PIC, "content": "c"}, headers=tokens["admin"])
    assert response.status_code == 422
    again = (await client.get(f"{ARTICLES}/{article['id']}", headers=tokens["admin"])).json()
    assert again["title"] == "原标题" and again["category_id"] == category["id"]


async def test_article_required_fields(client, tokens):
    category = await make_category(client, tokens)
    response = await client.post(ARTICLES, json={"category_id": category["id"], "title": "t"}, headers=tokens["admin"])
    fields = {entry["loc"][-1] for entry in response.json()["error"]["details"]["errors"]}
    assert response.status_code == 422 and fields == {"pic_url", "content"}


async def test_article_admin_page_filters(client, tokens):
    category = await make_category(client, tokens)
    await make_article(client, tokens, category["id"], title="热门一", recommend_hot=True)
    await make_article(client, tokens, category["id"], title="普通", status=1)
    hot = (await client.get(ARTICLES, params={"recommend_hot": True}, headers=tokens["admin"])).json()
    assert [a["title"] for a in hot["items"]] == ["热门一"]
    disabled = (await client.get(ARTICLES, params={"status": 1}, headers=tokens["admin"])).json()
    assert [a["title"] for a in disabled["items"]] == ["普通"]


# --- admin: banners -----------------------------------------------------------------------------

@pytest.mark.parametrize("overrides, field", [
    ({"position": 6}, "position"),
    ({"url": "javascript:alert(1)"}, "url"),
    ({"title": ""}, "title"),
    ({"title": "x" * 65}, "title"),
    ({"pic_url": ""}, "pic_url"),
])
async def test_banner_validation(client, tokens, overrides, field):
    body = {"title": "b", "pic_url": PIC, "url": "/p", "position": 1, **overrides}
    response = await client.post(BANNERS, json=body, headers=tokens["admin"])
    assert response.status_code == 422
    assert any(field in entry["loc"] for entry in response.json()["error"]["details"]["errors"])


async def test_banner_update_and_delete_unknown_is_404(client, tokens):
    body = {"title": "b", "pic_url": PIC, "url": "/p", "position": 1}
    assert (await client.put(f"{BANNERS}/777", json=body, headers=tokens["admin"])).status_code == 404
    response = await client.delete(f"{BANNERS}/777", headers=tokens["admin"])
    assert response.status_code == 404 and response.json()["error"]["code"] == "BANNER_NOT_FOUND"


# --- auth -----------------------------------------------------------------------------------------

async def test_admin_api_needs_an_admin(client, tokens):
    assert (await client.get(CATEGORIES)).status_code == 401
    forbidden = await client.get(CATEGORIES, headers=tokens["member"])
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "FORBIDDEN"
    bad = await client.get(CATEGORIES, headers={"Authorization": "Bearer not-a-jwt"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "AUTH_INVALID_TOKEN"


async def test_app_api_is_anonymous_but_rejects_bad_tokens(client):
    assert (await client.get("/app-api/content/banners", params={"position": 1})).status_code == 200
    bad = await client.get("/app-api/content/banners", params={"position": 1},
                           headers={"Authorization": "Bearer x.y.z"})
    assert bad.status_code == 401


async def test_errors_speak_english_when_asked(client, tokens):
    response = await client.get(f"{CATEGORIES}/5", headers={**tokens["admin"], "Accept-Language": "en-US,en;q=0.9"})
    assert response.json()["error"]["message"] == "Article category 5 does not exist"
    zh = await client.get(f"{CATEGORIES}/5", headers={**tokens["admin"], "Accept-Language": "zh-CN"})
    assert zh.json()["error"]["message"] == "文章分类 5 不存在"


async def test_every_refusal_is_chinese_or_english_as_asked(client, tokens):
    category = await make_category(client, tokens)
    await make_article(client, tokens, category["id"])
    refusals = [("get", f"{CATEGORIES}/5", None), ("delete", f"{CATEGORIES}/{category['id']}", None),
                ("post", ARTICLES, {"category_id": 999, "title": "t", "pic_url": PIC, "content": "c"}),
                ("get", f"{ARTICLES}/999", None), ("get", f"{BANNERS}/999", None)]
    for method, path, body in refusals:
        kwargs = {} if body is None else {"json": body}
        zh = await client.request(method, path, headers={**tokens["admin"], "Accept-Language": "zh-CN"}, **kwargs)
        en = await client.request(method, path, headers={**tokens["admin"], "Accept-Language": "en"}, **kwargs)
        assert zh.json()["error"]["code"] == en.json()["error"]["code"], (zh.text, en.text)
        assert re.search(r"[\u4e00-\u9fff]", zh.json()["error"]["message"]), zh.text
        assert not re.search(r"[A-Za-z]", zh.json()["error"]["message"]), zh.text
        assert not re.search(r"[\u4e00-\u9fff]", en.json()["error"]["message"]), en.text


async def test_integer_enums_are_described_in_the_openapi_schema(client):
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    for name, values in (("BannerPosition", [1, 2, 3, 4, 5]), ("CommonStatus", [0, 1])):
        schema = schemas[name]
        assert schema["enum"] == values and all(schema["x-enum-descriptions"]), schema
        assert len(schema["x-enum-descriptions"]) == len(values), schema
        assert all(f"{value} = " in schema["description"] for value in values), schema


# --- app (buyers) ---------------------------------------------------------------------------------

async def test_app_sees_only_enabled_categories_in_sort_order(client, tokens):
    await make_category(client, tokens, name="B", sort=2)
    await make_category(client, tokens, name="A", sort=1)
    await make_category(client, tokens, name="hidden", sort=0, status=1)
    response = await client.get("/app-api/content/article-categories")
    assert [c["name"] for c in response.json()] == ["A", "B"]


async def test_app_articles_hide_disabled_articles_and_categories(client, tokens):
    shown = await make_category(client, tokens, name="shown")
    hidden = await make_category(client, tokens, name="hidden", status=1)
    await make_article(client, tokens, shown["id"], title="可见", recommend_hot=True, sort=1)
    await make_article(client, tokens, shown["id"], title="停用", status=1)
    await make_article(client, tokens, hidden["id"], title="分类停用")
    await make_article(client, tokens, shown["id"], title="轮播", recommend_banner=True, sort=2)
    page = (await client.get("/app-api/content/articles")).json()
    assert [a["title"] for a in page["items"]] == ["可见", "轮播"] and page["total"] == 2
    assert "content" not in page["items"][0]
    hot = (await client.get("/app-api/content/articles", params={"hot": True})).json()
    assert [a["title"] for a in hot["items"]] == ["可见"]
    banner = (await client.get("/app-api/content/articles", params={"banner": True})).json()
    assert [a["title"] for a in banner["items"]] == ["轮播"]
    search = (await client.get("/app-api/content/articles", params={"title": "轮"})).json()
    assert [a["title"] for a in search["items"]] == ["轮播"]
    by_category = (await client.get("/app-api/content/articles", params={"category_id": hidden["id"]})).json()
    assert by_category["items"] == []


async def test_article_detail_counts_views_and_hides_disabled(client, tokens):
    category = await make_category(client, tokens)
    article = await make_article(client, tokens, category["id"])
    first = await client.get(f"/app-api/content/articles/{article['id']}")
    second = await client.get(f"/app-api/content/articles/{article['id']}")
    assert first.json()["browse_count"] == 1 and second.json()["browse_count"] == 2
    assert second.json()["content"] == "<p>hi</p>"
    disabled = await make_article(client, tokens, category["id"], status=1)
    response = await client.get(f"/app-api/content/articles/{disabled['id']}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "ARTICLE_NOT_FOUND"
    assert (await client.get(f"{ARTICLES}/{disabled['id']}", headers=tokens["admin"])).json()["browse_count"] == 0


async def test_concurrent_views_lose_no_count(client, tokens):
    category = await make_category(client, tokens)
    article = await make_article(client, tokens, category["id"])
    responses = await asyncio.gather(*(client.get(f"/app-api/content/articles/{article['id']}") for _ in range(40)))
    assert all(r.status_code == 200 for r in responses)
    final = (await client.get(f"{ARTICLES}/{article['id']}", headers=tokens["admin"])).json()
    assert final["browse_count"] == 40
    assert sorted(r.json()["browse_count"] for r in responses) == list(range(1, 41))


async def test_banners_by_position_enabled_only_sorted(client, tokens):
    await make_banner(client, tokens, title="second", sort=2)
    await make_banner(client, tokens, title="first", sort=1)
    await make_banner(client, tokens, title="off", sort=0, status=1)
    await make_banner(client, tokens, title="seckill page", position=2)
    home = (await client.get("/app-api/content/banners", params={"position": 1})).json()
    assert [b["title"] for b in home] == ["first", "second"]
    assert "click_count" not in home[0]
    assert (await client.get("/app-api/content/banners", params={"position": 9})).status_code == 422
    assert (await client.get("/app-api/content/banners")).status_code == 422


async def test_banner_clicks_are_counted(client, tokens):
    banner = await make_banner(client, tokens)
    for _ in range(3):
        assert (await client.post(f"/app-api/content/banners/{banner['id']}/clicks")).status_code == 204
    admin_view = (await client.get(f"{BANNERS}/{banner['id']}", headers=tokens["admin"])).json()
    assert admin_view["click_count"] == 3
    off = await make_banner(client, tokens, status=1)
    assert (await client.post(f"/app-api/content/banners/{off['id']}/clicks")).status_code == 404


# --- ops ------------------------------------------------------------------------------------------

async def test_health_ready_metrics_and_request_id(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok", "broker": "ok"}
    response = await client.get("/app-api/content/article-categories", headers={"X-Request-Id": "req-123"})
    assert response.headers["x-request-id"] == "req-123"
    assert (await client.get("/healthz")).headers["x-request-id"]
    metrics = (await client.get("/metrics")).text
    assert 'http_requests_total{method="GET",route="/app-api/content/article-categories",status="200"}' in metrics


async def test_unknown_route_and_method_use_the_error_body(client):
    response = await client.get("/app-api/content/nothing-here")
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"
    response = await client.delete("/app-api/content/article-categories")
    assert response.status_code == 405 and response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
