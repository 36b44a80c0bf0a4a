"""What an order's events do to vouchers, and their expiry: `order.paid` issues one voucher per
unit of each line whose SKU is an approved voucher product (exactly once per unit, whatever the
redelivery or republication: the (order_id, sku_id, unit_no) key); `order.cancelled` refunds the
order's untouched vouchers and refuses, and reports, the refund of those partly used; the job
expires active vouchers past their validity. These flush; the consumer runner or the job commits."""

from __future__ import annotations

import logging
from datetime import datetime, tzinfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.voucher import domain
from services.voucher import repository as repo
from services.voucher import repository_vouchers as vouchers
from services.voucher.domain import RefundVerdict, Unit, VoucherStatus
from services.voucher.models import Product, Voucher, outbox
from shared.events import OrderCancelled, OrderPaid, new_event
from shared.outbox import add_to_outbox

log = logging.getLogger("voucher.issuing")
SOURCE = "promo-voucher"
CODE_ATTEMPTS = 5


async def publish(session: AsyncSession, event_type: str, order_id: int, data: dict, at: datetime) -> None:
    """Every voucher event is keyed by its order, so one order's events stay in order."""
    await add_to_outbox(session, outbox, new_event(event_type, source=SOURCE, subject=order_id, time=at, data=data))


def state(voucher: Voucher) -> domain.VoucherState:
    return domain.VoucherState(voucher.id, voucher.business_id, VoucherStatus(voucher.status),
                               domain.VoucherKind(voucher.kind), voucher.value, voucher.currency,
                               voucher.max_using_times, voucher.cost,
                               domain.Surplus(voucher.surplus_value, voucher.surplus_times), voucher.cost_settled,
                               voucher.valid_start_at, voucher.valid_end_at)


# --- order.paid -----------------------------------------------------------------------------------

async def order_paid(session: AsyncSession, paid: OrderPaid, zone: tzinfo) -> list[Voucher]:
    """The order's vouchers, those not issued yet. Nothing for an order already cancelled."""
    if await vouchers.is_cancelled(session, paid.order_id):
        log.warning("order %s was paid after its cancel: no voucher issued", paid.order_id)
        return []
    lines = [domain.PaidLine(i.sku_id, i.spu_id, i.count, i.pay_price) for i in paid.items]
    products = {p.sku_id: p for p in await repo.approved_products_by_sku(session, [line.sku_id for line in lines])}
    wanted = [unit for unit in domain.units(lines) if unit.sku_id in products]
    if not wanted:
        return []
    issued_before = await vouchers.existing_units(session, paid.order_id)
    issued = []
    for unit in wanted:
        if (unit.sku_id, unit.unit_no) not in issued_before:
            voucher = await _issue(session, paid, unit, products[unit.sku_id], zone)
            if voucher is not None:
                issued.append(voucher)
    return issued


def _voucher(paid: OrderPaid, unit: Unit, product: Product, zone: tzinfo) -> Voucher:
    terms = _terms(product)
    start, end = domain.validity_window(terms, paid.paid_at, zone)
    return Voucher(business_id=product.business_id, product_id=product.id, spu_id=unit.spu_id, sku_id=unit.sku_id,
                   user_id=paid.user_id, order_id=paid.order_id, unit_no=unit.unit_no, pay_price=unit.pay_price,
                   name=terms.name, image_url=terms.image_url, kind=terms.kind, value=terms.value,
                   currency=terms.currency, max_using_times=terms.max_using_times, cost=terms.cost,
                   selling_store_id=terms.selling_store_id, store_ids=list(terms.store_ids), valid_start_at=start,
                   valid_end_at=end, surplus_value=terms.value, surplus_times=terms.max_using_times, cost_settled=0,
                   status=VoucherStatus.ACTIVE, paid_at=paid.paid_at, created_at=paid.paid_at,
                   updated_at=paid.paid_at)


def _terms(product: Product) -> domain.ProductTerms:
    return domain.ProductTerms(product.name, domain.VoucherKind(product.kind), product.value, product.currency,
                               product.max_using_times, product.cost, product.bright_desc, product.image_url,
                               domain.ValidityType(product.validity_type), product.valid_start_at,
                               product.valid_end_at, product.valid_days, product.selling_store_id,
                               tuple(product.store_ids))


async def _issue(session: AsyncSession, paid: OrderPaid, unit: Unit, product: Product,
                 zone: tzinfo) -> Voucher | None:
    """One unit's voucher, in a savepoint: a unit another delivery issued meanwhile is left to it;
    a code drawn twice (about one in 10^17) is drawn again."""
    for _ in range(CODE_ATTEMPTS):
        voucher = _voucher(paid, unit, product, zone)
        voucher.code = domain.new_code()
        try:
            async with session.begin_nested():
                session.add(voucher)
                await session.flush()
        except IntegrityError:
            if await vouchers.unit_exists(session, paid.order_id, unit.sku_id, unit.unit_no):
                return None
            continue
        await publish(session, "promo.voucher.issued", paid.order_id, issued_data(voucher), paid.paid_at)
        return voucher
    raise RuntimeError(f"no free voucher code after {CODE_ATTEMPTS} draws")


def issued_data(v: Voucher) -> dict:
    return {"voucher_id": v.id, "business_id": v.business_id, "product_id": v.product_id, "spu_id": v.spu_id,
            "sku_id": v.sku_id, "user_id": v.user_id, "order_id": v.order_id, "unit_no": v.unit_no,
            "kind": int(v.kind), "value": v.value, "currency": v.currency, "max_using_times": v.max_using_times,
            "valid_start_at": v.valid_start_at.isoformat(), "valid_end_at": v.valid_end_at.isoformat()}


# --- order.cancelled ------------------------------------------------------------------------------

async def order_cancelled(session: AsyncSession, cancelled: OrderCancelled) -> tuple[list[Voucher], list[Voucher]]:
    """The first cancel of an order: its untouched vouchers are refunded, those partly used are not
    (the order service decides: promo.voucher.refund-refused says what was used). Later deliveries,
    or the same cancel republished, do nothing. Returns (refunded, refused)."""
    order_id, at = cancelled.order_id, cancelled.cancelled_at
    if not await vouchers.record_cancelled(session, order_id, at):
        return [], []
    refunded, refused = [], []
    for voucher in await vouchers.vouchers_of_order(session, order_id):
        verdict = domain.refund_verdict(state(voucher))
        if verdict is RefundVerdict.DONE:
            continue
        if verdict is RefundVerdict.REFUND and await vouchers.refund(
                session, voucher.id, f"order:{order_id}", f"order_cancelled:{cancelled.reason}", at):
            refunded.append(voucher)
        else:  # used (the row is locked: a verification either came first or waits)
            refused.append(voucher)
    await _report_refund(session, cancelled, refunded, refused)
    return refunded, refused


async def _report_refund(session: AsyncSession, cancelled: OrderCancelled, refunded: list[Voucher],
                         refused: list[Voucher]) -> None:
    base = {"order_id": cancelled.order_id, "user_id": cancelled.user_id, "reason": str(cancelled.reason)}
    if refunded:
        await publish(session, "promo.voucher.refunded", cancelled.order_id, {
            **base, "refunded_at": cancelled.cancelled_at.isoformat(),
            "vouchers": [{"voucher_id": v.id, "sku_id": v.sku_id, "value": v.value, "currency": v.currency,
                          "pay_price": v.pay_price} for v in refunded]}, cancelled.cancelled_at)
    if refused:
        await publish(session, "promo.voucher.refund-refused", cancelled.order_id, {
            **base, "refused_at": cancelled.cancelled_at.isoformat(), "vouchers": [used(v) for v in refused]},
            cancelled.cancelled_at)


def used(v: Voucher) -> dict:
    """What was already used of a voucher whose refund is refused."""
    return {"voucher_id": v.id, "sku_id": v.sku_id, "status": int(v.status), "currency": v.currency,
            "value": v.value, "surplus_value": v.surplus_value, "used_value": v.value - v.surplus_value,
            "max_using_times": v.max_using_times, "surplus_times": v.surplus_times,
            "used_times": v.max_using_times - v.surplus_times, "pay_price": v.pay_price}


# --- expiry -----------------------------------------------------------------------------------------

async def expire_due(session: AsyncSession, now: datetime, limit: int = 500) -> int:
    """Active vouchers past their end expire, each by one conditional statement (replicas running
    it at once expire each once), each with its event."""
    expired = 0
    for voucher in await vouchers.due_for_expiry(session, now, limit):
        if await vouchers.expire(session, voucher.id, now):
            expired += 1
            await publish(session, "promo.voucher.expired", voucher.order_id, {
                "voucher_id": voucher.id, "business_id": voucher.business_id, "user_id": voucher.user_id,
                "order_id": voucher.order_id, "surplus_value": voucher.surplus_value,
                "surplus_times": voucher.surplus_times, "valid_end_at": voucher.valid_end_at.isoformat(),
                "expired_at": now.isoformat()}, now)
    return expired
