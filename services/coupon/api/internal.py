"""/internal/coupon: the order service and pricing (service token only; never forwarded by the gateway).

`POST /internal/coupon/match` runs on every member quote, often several times: `MatchFastPath`
serves its well-formed calls ahead of FastAPI's routing, dependencies and validation (pure ASGI,
inside the request id, metrics and body middleware), on a plain connection; anything else (no or
a wrong token, a body the schema refuses, a database error) goes on to the FastAPI route below,
which documents it and gives its usual answers.
"""

from __future__ import annotations

import json
import logging
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends
from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.responses import Response

from services.coupon import flows, lifecycle, matching, pages
from services.coupon.api.deps import BusinessZone, HoldSeconds
from services.coupon.errors import CouponNotUsable, OneCouponPerOwner, OrderCancelled
from services.coupon.schemas import (
    HoldIn,
    HoldOut,
    MatchOut,
    ReleaseOut,
    ServiceCartIn,
    TemplateLookupIn,
    TemplateLookupOut,
)
from shared.auth import Role, require_role
from shared.db import Session, Sessions
from shared.deps import Locale, Now
from shared.errors import Forbidden, InvalidToken, Unauthorized, negotiate_locale
from shared.fast_path import post_route
from shared.ids import PathId
from shared.openapi import errors
from shared.responses import prebuilt_json

router = APIRouter(prefix="/internal/coupon", tags=["internal: coupon"],
                   dependencies=[Depends(require_role(Role.SERVICE))], responses=errors(Unauthorized, Forbidden))


@router.post("/match", response_model=MatchOut)
async def match(body: ServiceCartIn, session: Session, now: Now, locale: Locale, zone: BusinessZone):
    """The user's unused coupons against the lines; with `order_id`, the coupons that order holds too.
    `owners` narrows them to the shops' or the platform's; a shop's coupon considers only the lines
    of its shop (`business_id`), the platform's those of every shop in its scope."""
    return prebuilt_json(await matching.match_cart(session, body.user_id, body.lines, now, locale, zone,
                                                   body.order_id, body.owners))


MATCH_PATH = "/internal/coupon/match"
log = logging.getLogger("coupon.match")


async def fast_match(app, headers: Headers, body: bytes) -> Response | None:
    """The answer of a well-formed call by a service, or None: the FastAPI route answers it."""
    try:
        principal = app.state.token_verifier.verify_header(headers.get("authorization"))
    except InvalidToken:
        return None
    if principal is None or principal.role is not Role.SERVICE:
        return None
    try:  # validated as FastAPI validates a body: parsed JSON, then the model in Python mode
        cart = ServiceCartIn.model_validate(json.loads(body))
    except (ValueError, ValidationError):
        return None
    settings = app.state.settings
    locale = negotiate_locale(headers.get("accept-language"), settings.default_locale)
    try:  # one read on a connection of its own: returning it ends its transaction
        rows = await matching.read_matchable_coupons(app.state.engine, cart.user_id, cart.order_id, cart.owners)
    except Exception:  # the route runs it again, with its own error answers (a database error: 503)
        log.warning("a fast match failed; the route answers it", exc_info=True)
        return None
    answer = matching.verdicts(rows, cart.lines, app.state.clock.now(), locale, ZoneInfo(settings.business_timezone))
    return prebuilt_json(answer)


MatchFastPath = post_route(MATCH_PATH, fast_match)


@router.post("/holds", status_code=201, response_model=HoldOut,
             responses=errors(CouponNotUsable, OrderCancelled, OneCouponPerOwner))
async def hold(body: HoldIn, sessions: Sessions, now: Now, hold_seconds: HoldSeconds):
    """Checkout: reserve the coupon (`coupon_id`) or coupons (`coupons`, at most one per shop and
    one of the platform, each with its discount) for the order, all or none (idempotent by order
    id, the holds running again from now; a different set asked by the same order replaces its
    earlier holds; refused for an order already cancelled)."""
    coupons = await flows.hold_for_order(sessions, body.order_id, body.user_id, body.discounts(), now, hold_seconds)
    return HoldOut(order_id=body.order_id, coupon_id=coupons[0].id, coupon_ids=[c.id for c in coupons],
                   hold_expires_at=min((c.hold_expires_at for c in coupons if c.hold_expires_at), default=None))


@router.post("/holds/{order_id}/release", response_model=ReleaseOut)
async def release(order_id: PathId, session: Session, now: Now):
    """Checkout failed elsewhere: give back the coupon the order holds (idempotent). A coupon the
    order used (it was paid) is not given back here: only order.cancelled does that."""
    return ReleaseOut(order_id=order_id, released=await lifecycle.release_holds(session, order_id, now))


@router.post("/templates/lookup", response_model=TemplateLookupOut)
async def lookup_templates(body: TemplateLookupIn, session: Session):
    """Pricing checks the templates a spend-and-save level gives when it is saved: those that
    exist are listed (a missing id is simply absent)."""
    return await pages.lookup_templates(session, body.template_ids)
