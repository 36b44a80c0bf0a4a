"""Serves the built console (console/web/dist) and what it needs at run time: `/config.json`
(the services' URLs, the business timezone, how to log in) and, in dev mode only, `/dev/token`
(a signed dev token for the admin or a merchant, as `promo token` prints)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from console.settings import ConsoleSettings
from shared.auth import Role, issue_token
from shared.ids import MAX_ID

DIST = Path(__file__).resolve().parent / "web" / "dist"
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                    "X-Frame-Options": "DENY"}


class DevTokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["admin", "merchant"]
    business_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None


def create_app(settings: ConsoleSettings | None = None, dist: Path = DIST) -> FastAPI:
    settings = settings or ConsoleSettings()
    app = FastAPI(title="Promotion Center console", docs_url=None, redoc_url=None, openapi_url=None)

    @app.middleware("http")
    async def security_headers(request, call_next):
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.get("/config.json")
    async def config() -> JSONResponse:
        return JSONResponse({"services": settings.service_urls(), "timezone": settings.business_timezone,
                             "default_locale": settings.default_locale, "dev": settings.is_dev,
                             "login_url": settings.console_login_url}, headers={"Cache-Control": "no-store"})

    @app.post("/dev/token")
    async def dev_token(body: DevTokenIn) -> JSONResponse:
        if not settings.is_dev:
            raise HTTPException(404)
        if body.role == "merchant" and body.business_id is None:
            raise HTTPException(422, "a merchant token needs business_id")
        subject = 1 if body.role == "admin" else 2000 + (body.business_id or 0)
        token = issue_token(settings, subject, Role(body.role),
                            business_id=body.business_id if body.role == "merchant" else None)
        return JSONResponse({"token": token})

    @app.get("/healthz")
    @app.get("/readyz")  # nothing to wait for: ready once it answers
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    if (dist / "index.html").is_file():
        app.mount("/assets", StaticFiles(directory=dist / "assets"), name="assets")

        @app.get("/{path:path}", include_in_schema=False)
        async def spa(path: str) -> FileResponse:  # the app's own routes all load index.html
            return FileResponse(dist / "index.html", headers={"Cache-Control": "no-cache"})
    else:
        @app.get("/{path:path}", include_in_schema=False)
        async def not_built(path: str) -> JSONResponse:
            message = "console/web/dist is missing: run `npm ci && npm run build` in console/web"
            return JSONResponse({"error": {"code": "CONSOLE_NOT_BUILT", "message": message}}, status_code=503)
    return app
