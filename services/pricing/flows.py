"""Checkout (docs/checkout.md): the order priced again and every limited resource it uses held,
once per order id. These functions own their transactions (they call other services between
them), unlike service.py's, which only flush."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.pricing import domain, snapshots
from services.pricing import repository as repo
from services.pricing.domain import CheckoutStatus
from services.pricing.holds import Hold, HoldOwner, HoldRequest, place_holds, release_holds
from services.pricing.models import Checkout
from services.pricing.quote import Priced, Pricing, price, render, special_order
from services.pricing.schemas import CheckoutIn, CheckoutOut, QuoteOut


def fingerprint(body: CheckoutIn) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _stored(row: Checkout) -> CheckoutOut:
    return CheckoutOut.model_validate({**(row.result or {}), "order_id": row.order_id,
                                       "snapshot_id": row.snapshot_id, "holds": row.holds})


async def checkout(sessionmaker: async_sessionmaker[AsyncSession], pricing: Pricing, body: CheckoutIn,
                   now: datetime, locale: str) -> CheckoutOut:
    """Price the order and hold what it uses, once. A retry returns the first answer; a retry
    while the first is still running is told to wait; a different cart for the order is refused."""
    request_hash = fingerprint(body)
    stored, takeover = await _claim(sessionmaker, pricing, body, request_hash, now)
    if stored is not None:
        return stored
    try:
        async with sessionmaker() as session:
            # a retry that took over a stale claim finds the holds the dead attempt took: its own
            priced = await price(session, pricing, body.user_id, body, now, locale, order_id=body.order_id)
        request = HoldRequest(body.order_id, body.user_id, priced.quote, special_order(body.activity), locale)
        holds = await place_holds(pricing.holds, request, after_crash=takeover)
    except Exception:
        await _forget_claim(sessionmaker, body.order_id)
        raise
    return await _finish(sessionmaker, pricing, body, priced, holds, locale, now)


async def _finish(sessionmaker: async_sessionmaker[AsyncSession], pricing: Pricing, body: CheckoutIn,
                  priced: Priced, holds: list[Hold], locale: str, now: datetime) -> CheckoutOut:
    """Store the priced order and its holds, unless the order was cancelled meanwhile (then give
    the holds back) or an attempt that took over a stale claim finished first (then its answer
    stands, and the holds, the same ones by order id, stay)."""
    result = QuoteOut.model_validate(render(priced, locale)).model_dump(mode="json")
    hold_rows = [{"owner": h.owner, "reference": h.reference,
                  "expires_at": h.expires_at.isoformat() if h.expires_at else None, "references": list(h.references)}
                 for h in holds]
    async with sessionmaker() as session, session.begin():
        row = await repo.get_checkout(session, body.order_id, for_update=True)
        if row is not None and row.status == CheckoutStatus.PENDING:
            row.status, row.result, row.holds, row.updated_at = CheckoutStatus.HELD, result, hold_rows, now
            row.offers = snapshots.to_json(priced.offers, priced.chosen, pricing.rules, priced.cart.special,
                                           priced.shop_coupons)
        cancelled = row is None or row.status == CheckoutStatus.CANCELLED
    if cancelled:  # order.cancelled arrived while the holds were being placed
        await release_holds(_owners_of(pricing, holds), body.order_id)
        raise domain.OrderAlreadyCancelled(order_id=body.order_id)
    return _stored(row)


def _owners_of(pricing: Pricing, holds: Sequence[Hold]) -> list[HoldOwner]:
    names = {h.owner for h in holds}
    return [owner for owner in pricing.holds if owner.name in names]


async def _claim(sessionmaker: async_sessionmaker[AsyncSession], pricing: Pricing, body: CheckoutIn, request_hash: str,
                 now: datetime) -> tuple[CheckoutOut | None, bool]:
    """Mark the order's checkout as running, or return the answer a previous attempt stored; True
    when this attempt takes over from one that died half-way. Insert first: of concurrent
    attempts exactly one inserts, the others wait for it and then find its row (reading a
    missing row first would gap-lock and deadlock on MySQL)."""
    try:
        async with sessionmaker() as session, session.begin():
            session.add(Checkout(order_id=body.order_id, user_id=body.user_id, snapshot_id=str(uuid.uuid4()),
                                 status=CheckoutStatus.PENDING, fingerprint=request_hash,
                                 request=body.model_dump(mode="json"), holds=[], claimed_at=now,
                                 created_at=now, updated_at=now))
        return None, False
    except IntegrityError:
        pass
    async with sessionmaker() as session, session.begin():
        row = await repo.get_checkout(session, body.order_id, for_update=True)
        if row is None:  # the other attempt failed and forgot its claim just now
            raise domain.CheckoutInProgress(order_id=body.order_id, retry_after=1)
        if row.status == CheckoutStatus.CANCELLED:
            raise domain.OrderAlreadyCancelled(order_id=body.order_id)
        if row.fingerprint != request_hash:
            raise domain.CheckoutMismatch(order_id=body.order_id)
        if row.status != CheckoutStatus.PENDING:
            return _stored(row), False
        if row.claimed_at > now - timedelta(seconds=pricing.stale_seconds):
            raise domain.CheckoutInProgress(order_id=body.order_id, retry_after=1)
        row.claimed_at, row.updated_at = now, now  # the earlier attempt died: take over
        return None, True


async def _forget_claim(sessionmaker: async_sessionmaker[AsyncSession], order_id: int) -> None:
    """A failed checkout leaves nothing behind, so the order service may try again."""
    async with sessionmaker() as session, session.begin():
        row = await repo.get_checkout(session, order_id, for_update=True)
        if row is not None and row.status == CheckoutStatus.PENDING:
            await session.delete(row)
