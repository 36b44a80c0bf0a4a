"""The console's server: its runtime configuration, dev-only tokens, the built app's routes."""

from __future__ import annotations

import httpx
import jwt
import pytest

from console.server import create_app
from console.settings import ConsoleSettings
from shared.settings import DEV_JWT_SECRET


def client(tmp_path=None, **settings) -> httpx.AsyncClient:
    app = create_app(ConsoleSettings(_env_file=None, **settings), **({"dist": tmp_path} if tmp_path else {}))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console")


async def test_config_names_the_services_the_zone_and_how_to_log_in():
    async with client(env="dev", console_service_urls={"coupon": "https://coupon.mall.example"}) as c:
        config = (await c.get("/config.json")).json()
    assert config["services"]["coupon"] == "https://coupon.mall.example"
    assert config["services"]["pricing"] == "http://localhost:8006"
    assert config["timezone"] == "Asia/Shanghai" and config["dev"] is True and config["login_url"] == ""


async def test_dev_tokens_are_signed_in_dev_mode_only():
    async with client(env="dev") as c:
        admin = (await c.post("/dev/token", json={"role": "admin"})).json()["token"]
        merchant = (await c.post("/dev/token", json={"role": "merchant", "business_id": 7})).json()["token"]
        assert (await c.post("/dev/token", json={"role": "merchant"})).status_code == 422
        assert (await c.post("/dev/token", json={"role": "member"})).status_code == 422, "members have no console"
    assert jwt.decode(admin, DEV_JWT_SECRET, algorithms=["HS256"])["role"] == "admin"
    claims = jwt.decode(merchant, DEV_JWT_SECRET, algorithms=["HS256"])
    assert claims["role"] == "merchant" and claims["business_id"] == 7
    async with client(env="prod", jwt_secret="x" * 40, console_login_url="https://id.mall.example/login") as c:
        assert (await c.post("/dev/token", json={"role": "admin"})).status_code == 404
        config = (await c.get("/config.json")).json()
        assert config["dev"] is False and config["login_url"] == "https://id.mall.example/login"


async def test_the_app_s_routes_load_the_built_index_and_a_missing_build_says_how_to_make_it(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<div id=app></div>")
    (tmp_path / "assets" / "app.js").write_text("console.log(1)")
    async with client(tmp_path, env="dev") as c:
        assert (await c.get("/readyz")).json() == {"status": "ok"}
        for path in ("/", "/r/couponTemplates", "/simulator"):
            page = await c.get(path)
            assert page.status_code == 200 and page.text == "<div id=app></div>"
            assert page.headers["x-frame-options"] == "DENY"
        assert (await c.get("/assets/app.js")).text == "console.log(1)"
    async with client(tmp_path / "missing", env="dev") as c:
        missing = await c.get("/")
        assert missing.status_code == 503 and missing.json()["error"]["code"] == "CONSOLE_NOT_BUILT"


def test_unknown_services_are_refused_in_the_settings():
    with pytest.raises(ValueError, match="unknown service"):
        ConsoleSettings(_env_file=None, env="dev", console_service_urls={"coupons": "http://x"})
