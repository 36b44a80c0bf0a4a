"""Browsers may call a service directly only from the origins of CORS_ORIGINS (the console's)."""

from __future__ import annotations

import httpx
import pytest

from services.content.main import create_app
from services.content.settings import ContentSettings

CONSOLE = "https://console.mall.example"


def client(**settings) -> httpx.AsyncClient:
    app = create_app(ContentSettings(_env_file=None, env="test", **settings))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://content")


def preflight(origin: str) -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,accept-language"}


async def test_the_console_s_origin_is_allowed_and_no_other():
    async with client(cors_origins=[CONSOLE]) as c:
        allowed = await c.options("/admin-api/content/banners", headers=preflight(CONSOLE))
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == CONSOLE
        assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
        refused = await c.options("/admin-api/content/banners", headers=preflight("https://evil.example"))
        assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
        answer = await c.get("/healthz", headers={"Origin": CONSOLE})
        assert answer.headers["access-control-allow-origin"] == CONSOLE
        assert "x-request-id" in answer.headers["access-control-expose-headers"].lower()


async def test_no_origin_is_allowed_by_default():
    async with client() as c:
        answer = await c.get("/healthz", headers={"Origin": CONSOLE})
        assert "access-control-allow-origin" not in answer.headers
        assert (await c.options("/admin-api/content/banners", headers=preflight(CONSOLE))).status_code == 405


@pytest.mark.parametrize("origin", ["*", "https://console.mall.example/", "console.mall.example", "https://a b"])
def test_what_is_not_an_origin_is_refused(origin):
    with pytest.raises(ValueError, match="CORS_ORIGINS"):
        ContentSettings(_env_file=None, env="test", cors_origins=[origin])
