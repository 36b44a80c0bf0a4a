"""The cart page's quote, served ahead of FastAPI's routing, dependencies and validation.

`POST /app-api/pricing/quote` runs on every view of every cart; through FastAPI's router,
dependencies and body validation the framework was about a third of an anonymous quote's CPU.
This fast path (shared/fast_path.py) answers a well-formed quote by an anonymous caller or a
member itself, the same bytes as the FastAPI route in api/app.py; anything else (a bad token,
another role, a body the schema refuses, a quote that is refused or fails) goes on to that route,
which documents it and gives its usual answers. A quote writes nothing, so running it again there
changes nothing.
"""

from __future__ import annotations

import json
import logging

from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.responses import Response

from services.pricing import quote as quotes
from services.pricing.schemas import QuoteIn
from shared.auth import Role
from shared.errors import DomainError, negotiate_locale
from shared.fast_path import post_route
from shared.responses import prebuilt_json

QUOTE_PATH = "/app-api/pricing/quote"
log = logging.getLogger("pricing.quote")


async def fast_quote(app, headers: Headers, body: bytes) -> Response | None:
    """The quote of a well-formed request by an anonymous caller or a member, or None: the
    FastAPI route answers it."""
    try:
        principal = app.state.token_verifier.verify_header(headers.get("authorization"))
    except DomainError:  # a bad token: the route's 401
        return None
    if principal is not None and principal.role is not Role.MEMBER:
        return None
    try:  # validated as FastAPI validates a body: parsed JSON, then the model in Python mode
        request = QuoteIn.model_validate(json.loads(body))
    except (ValueError, ValidationError):
        return None
    locale = negotiate_locale(headers.get("accept-language"), app.state.settings.default_locale)
    try:  # the catalog's versions read on a connection of their own (the quote's one statement)
        answer = await quotes.quote(app.state.engine, app.state.pricing, principal.user_id if principal else None,
                                    request, app.state.clock.now(), locale)
    except DomainError:  # refused: the route says why, in its usual words
        return None
    except Exception:  # a database or a coupon service failing: the route's own answers
        log.warning("a fast quote failed; the route answers it", exc_info=True)
        return None
    return prebuilt_json(answer)


QuoteFastPath = post_route(QUOTE_PATH, fast_quote)
