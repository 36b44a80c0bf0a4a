"""The cart use case that manages its own database connection: the page reads the lines, gives
the connection back, and only then calls pricing (up to DEPENDENCY_TIMEOUT_SECONDS), so a slow
pricing never holds cart connections. The other use cases flush in the request's transaction
(service.py)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from services.cart import pages
from services.cart import repository as repo
from services.cart.clients import PricingClient
from services.cart.domain import Owner
from shared.http import DependencyUnavailable, Refused

log = logging.getLogger("cart.flows")


@dataclass(frozen=True)
class CartContext:
    """What the page needs besides a request; built once per app (main.py)."""

    # The page's one SELECT is consistent at any isolation level: it reads on a plain connection of
    # the pool, without the SET TRANSACTION ISOLATION round trips of the READ COMMITTED sessions.
    engine: AsyncEngine
    pricing: PricingClient


async def page(cart: CartContext, owner: Owner, locale: str) -> dict[str, Any]:
    """GET /app-api/cart: one pricing quote for the whole cart (never one per line). Pricing down,
    slow or refusing: the lines at plain prices and `promotions_available: false`, never a 5xx."""
    async with cart.engine.connect() as connection:
        lines = await repo.page_lines(connection, owner)
    if not any(line.selected for line in lines):
        return pages.plain(lines, locale, available=True)  # nothing to price: no call
    try:
        quote = await cart.pricing.quote(owner, pages.quote_lines(lines), locale)
        return pages.priced(lines, quote, locale)
    except (DependencyUnavailable, Refused) as error:
        log.warning("cart page without promotions: pricing answered %r", error)
    except (KeyError, TypeError, ValueError) as error:  # an answer not shaped as agreed
        log.error("cart page without promotions: unexpected quote %r", error)
    return pages.plain(lines, locale, available=False)
