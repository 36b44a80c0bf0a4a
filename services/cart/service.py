"""Use cases of the cart service. They flush, never commit: the request, the consumer runner or
the job owns the transaction. Every change of a cart's lines first locks the cart's row
(`repository.lock_cart`), so adds, merges and removals of one cart run one after the other."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.cart import domain
from services.cart import repository as repo
from services.cart.domain import LineState, MergePlan, Owner
from services.cart.errors import LineNotFound
from services.cart.models import Line
from services.cart.schemas import AddOut, CartLineOut, ChangedOut, CountOut, LineIn, MergeOut
from shared.events import OrderPaid


async def count(session: AsyncSession, owner: Owner) -> CountOut:
    lines, quantity, selected = await repo.counts(session, owner)
    return CountOut(lines=lines, quantity=quantity, selected_lines=selected)


# --- adding and changing lines ----------------------------------------------------------------

async def add(session: AsyncSession, owner: Owner, item: LineIn, now: datetime) -> AddOut:
    """Adds `item.quantity` of a SKU (a new line, or more of the line the cart has: one line per
    SKU, the quantity capped at MAX_QUANTITY, which the answer's `capped` says)."""
    domain.check_quantity(item.quantity)  # before the cart exists: a refused add creates none
    cart_id = await repo.lock_cart(session, owner, now, create=True)
    line = await repo.line(session, cart_id, item.sku_id)
    if line is None:
        domain.check_room(await repo.count_lines(session, cart_id))
        line = Line(cart_id=cart_id, sku_id=item.sku_id, quantity=0, added_price=item.unit_price, added_at=now)
        session.add(line)
    added = domain.add_quantity(line.quantity, item.quantity)
    line.quantity, line.unit_price, line.selected, line.updated_at = added.quantity, item.unit_price, item.selected, now
    line.spu_id, line.category_id, line.business_id = item.spu_id, item.category_id, item.business_id
    await session.flush()
    return AddOut(line=CartLineOut.model_validate(line), capped=added.capped, count=await count(session, owner))


async def _locked_line(session: AsyncSession, owner: Owner, sku_id: int, now: datetime) -> Line:
    cart_id = await repo.lock_cart(session, owner, now)
    line = None if cart_id is None else await repo.line(session, cart_id, sku_id)
    if line is None:
        raise LineNotFound(sku_id=sku_id)
    return line


async def set_quantity(session: AsyncSession, owner: Owner, sku_id: int, quantity: int, unit_price: int | None,
                       now: datetime) -> Line:
    domain.check_quantity(quantity)
    line = await _locked_line(session, owner, sku_id, now)
    line.quantity, line.updated_at = quantity, now
    if unit_price is not None:
        line.unit_price = unit_price
    await session.flush()
    return line


async def select_line(session: AsyncSession, owner: Owner, sku_id: int, selected: bool, now: datetime) -> Line:
    line = await _locked_line(session, owner, sku_id, now)
    line.selected, line.updated_at = selected, now
    await session.flush()
    return line


async def select_all(session: AsyncSession, owner: Owner, selected: bool, now: datetime) -> ChangedOut:
    cart_id = await repo.lock_cart(session, owner, now)
    changed = 0 if cart_id is None else await repo.set_selected(session, cart_id, selected, now)
    return ChangedOut(changed=changed, count=await count(session, owner))


async def remove(session: AsyncSession, owner: Owner, sku_ids: list[int] | None, now: datetime) -> ChangedOut:
    """The lines of `sku_ids` (every line when None: clear); SKUs the cart lacks are no error."""
    cart_id = await repo.lock_cart(session, owner, now)
    changed = 0 if cart_id is None else await repo.delete_lines(session, cart_id, sku_ids)
    return ChangedOut(changed=changed, count=await count(session, owner))


# --- merge on login -------------------------------------------------------------------------------

def _state(line: Line) -> LineState:
    return LineState(line.sku_id, line.quantity, line.selected, line.added_at)


async def merge(session: AsyncSession, user_id: int, device_id: str, now: datetime) -> MergeOut:
    """The device's cart into the member's (domain.plan_merge). Locks the device cart first, then
    the member's (always in this order: two merges, or a merge and an add, wait instead of
    deadlocking). A merge waiting behind another finds the lines it would move gone: it moves
    each line once, and a retried merge changes nothing."""
    device_cart = await repo.lock_cart(session, Owner(device_id=device_id), now)
    device_lines = [] if device_cart is None else await repo.lines(session, device_cart)
    if not device_lines:
        return MergeOut(merged=0, moved=0, left_behind=[], count=await count(session, Owner(user_id=user_id)))
    member_cart = await repo.lock_cart(session, Owner(user_id=user_id), now, create=True)
    member_lines = {line.sku_id: line for line in await repo.lines(session, member_cart,
                                                                   [x.sku_id for x in device_lines])}
    plan = domain.plan_merge({sku: _state(line) for sku, line in member_lines.items()},
                             [_state(line) for line in device_lines], await repo.count_lines(session, member_cart))
    await _apply(session, plan, member_lines, {line.sku_id: line for line in device_lines}, member_cart, now)
    return MergeOut(merged=len(plan.raised), moved=len(plan.moved), left_behind=list(plan.left),
                    count=await count(session, Owner(user_id=user_id)))


async def _apply(session: AsyncSession, plan: MergePlan, member: dict[int, Line], device: dict[int, Line],
                 member_cart: int, now: datetime) -> None:
    for raised in plan.raised:
        line = member[raised.sku_id]
        line.quantity, line.selected, line.updated_at = raised.quantity, raised.selected, now
    for sku in plan.taken:  # deleted through the session: a new line may get a deleted one's id (SQLite)
        await session.delete(device[sku])
    await session.flush()
    for sku in plan.moved:  # the device line as it was, now the member's
        old = device[sku]
        session.add(Line(cart_id=member_cart, sku_id=sku, spu_id=old.spu_id, category_id=old.category_id,
                         business_id=old.business_id, quantity=old.quantity, added_price=old.added_price,
                         unit_price=old.unit_price, selected=old.selected, added_at=old.added_at, updated_at=now))
    await session.flush()


# --- order.paid -----------------------------------------------------------------------------------

async def remove_bought(session: AsyncSession, paid: OrderPaid) -> int:
    """The lines the member bought leave the member's cart (by SKU, up to the count bought), once
    per order: the order is recorded in the same transaction, so a redelivered or republished
    `order.paid` finds it and changes nothing. Returns the lines reduced or removed."""
    if not await repo.record_paid_order(session, paid.order_id, paid.user_id, paid.paid_at):
        return 0
    cart_id = await repo.lock_cart(session, Owner(user_id=paid.user_id), paid.paid_at)
    if cart_id is None:
        return 0
    lines = {line.sku_id: line for line in await repo.lines(session, cart_id, [i.sku_id for i in paid.items])}
    left = domain.after_purchase({sku: line.quantity for sku, line in lines.items()},
                                 [(item.sku_id, item.count) for item in paid.items])
    for sku, quantity in left.items():
        if quantity:
            lines[sku].quantity, lines[sku].updated_at = quantity, paid.paid_at
        else:
            await session.delete(lines[sku])
    await session.flush()
    await repo.note_lines_changed(session, paid.order_id, len(left))
    return len(left)


# --- expiry ---------------------------------------------------------------------------------------

async def expire_device_carts(session: AsyncSession, now: datetime, ttl_days: int, batch: int) -> int:
    """Up to `batch` device carts unchanged for `ttl_days`, removed with their lines. Each is
    checked again under its lock: one a buyer changed meanwhile stays, one another replica is
    removing is skipped."""
    before = domain.device_carts_expire_before(now, ttl_days)
    candidates = await repo.stale_device_carts(session, before, batch)
    if not candidates:
        return 0
    return await repo.delete_carts(session, await repo.lock_stale(session, candidates, before))
