"""The flash crowd's route, served ahead of FastAPI's routing and dependency machinery.

`POST /app-api/seckill/reservations` is where thousands of buyers press the button at the same
second, and most of them are told "sold out". Through FastAPI's router, dependencies, validation
and exception handlers, the framework was four fifths of such an answer; this pure ASGI handler
(inside the request id and metrics middleware) does the same checks and gives the same answers
with a fraction of that. The FastAPI route in api/app.py documents it and calls `answer` too.
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response

from services.seckill.flows.reservations import reserve
from services.seckill.schemas import ReservationIn
from services.seckill.service import reservation_view
from shared.auth import Role
from shared.errors import DomainError, Forbidden, Unauthorized, ValidationFailed, negotiate_locale
from shared.fast_path import post_route
from shared.responses import prebuilt_json

PATH = "/app-api/seckill/reservations"
KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
KEY_PATTERN = "^[A-Za-z0-9_-]{1,64}$"


async def answer(app: FastAPI, headers: Headers, body: bytes) -> Response:
    """The whole answer to one reservation request: 201 taken, 200 the first answer to a repeated
    Idempotency-Key, or the error body every service uses."""
    try:
        principal = app.state.token_verifier.verify_header(headers.get("authorization"))
        if principal is None:
            raise Unauthorized()
        if principal.role is not Role.MEMBER:
            raise Forbidden(required=[Role.MEMBER])
        key = headers.get("idempotency-key")
        if key is not None and not (0 < len(key) <= 64 and KEY_CHARS.issuperset(key)):
            raise ValidationFailed(errors=[{"loc": ["header", "Idempotency-Key"], "msg": f"must match {KEY_PATTERN}",
                                            "type": "string_pattern_mismatch"}])
        try:
            data = ReservationIn.model_validate_json(body)
        except ValidationError as exc:
            raise ValidationFailed(errors=[{"loc": ["body", *(str(p) for p in e["loc"])], "msg": e["msg"],
                                            "type": e["type"]} for e in exc.errors()]) from exc
        reservation, new = await reserve(app.state.seckill, principal.user_id, data.activity_id,
                                                 data.sku_id, data.count, app.state.clock.now(), key=key)
        return prebuilt_json(reservation_view(reservation), status_code=201 if new else 200)
    except DomainError as error:
        locale = negotiate_locale(headers.get("accept-language"), app.state.settings.default_locale)
        return JSONResponse(error.body(locale), status_code=error.status, headers=error.headers())


ReservationFastPath = post_route(PATH, answer)
