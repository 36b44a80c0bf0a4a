"""The coupon rush's route, served ahead of FastAPI's routing and dependency machinery.

`POST /app-api/coupon/templates/{id}/take` is where a crowd presses the button at the same
second, and most of it is told "all gone". Through FastAPI's router, dependencies and exception
handlers, the framework was most of such an answer's CPU; this pure ASGI handler (inside the
request id, metrics and body middleware) does the same checks and gives the same answers. The
FastAPI route in api/app.py documents it and answers what this one leaves to it (an id that is
not a plain positive number: its usual 422).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response

from services.coupon.flows.rush import take
from shared.auth import Role
from shared.errors import DomainError, Forbidden, Unauthorized, negotiate_locale
from shared.fast_path import route_label
from shared.ids import MAX_ID
from shared.responses import prebuilt_json

PREFIX, SUFFIX = "/app-api/coupon/templates/", "/take"
ROUTE = route_label(PREFIX + "{template_id}" + SUFFIX)


def template_id_of(path: str) -> int | None:
    """The id of a take's path, when it is a plain positive number within the id range."""
    if not (path.startswith(PREFIX) and path.endswith(SUFFIX)):
        return None
    text = path[len(PREFIX):-len(SUFFIX)]
    if not (text.isascii() and text.isdigit()) or text[0] == "0" or len(text) > 19:
        return None
    value = int(text)
    return value if value <= MAX_ID else None


async def answer(app: FastAPI, headers: Headers, template_id: int) -> Response:
    """201 with the coupon, or the error body every service uses."""
    try:
        principal = app.state.token_verifier.verify_header(headers.get("authorization"))
        if principal is None:
            raise Unauthorized()
        if principal.role is not Role.MEMBER:
            raise Forbidden(required=[Role.MEMBER])
        taken = await take(app.state.rush, template_id, principal.user_id, app.state.clock.now())
        return prebuilt_json({"coupon_id": taken.coupon_id, "can_take_again": taken.can_take_again}, status_code=201)
    except DomainError as error:
        locale = negotiate_locale(headers.get("accept-language"), app.state.settings.default_locale)
        return JSONResponse(error.body(locale), status_code=error.status, headers=error.headers())


class TakeFastPath:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        template_id = None
        if scope["type"] == "http" and scope["method"] == "POST":
            template_id = template_id_of(scope["path"])
        if template_id is None:
            await self.app(scope, receive, send)
            return
        response = await answer(scope["app"], Headers(scope=scope), template_id)
        scope["route"] = ROUTE
        await response(scope, receive, send)
