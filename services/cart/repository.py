"""Every query of the cart service.

The service's transactions are READ COMMITTED on MySQL/MariaDB (main.py): each statement sees
what other transactions committed, and searches take no gap locks, so buyers changing their own
carts never wait for (or deadlock with) each other on the index gaps between their lines. What
must not interleave within one cart is serialized by its cart row's lock (`lock_cart`), taken
first by every change of the cart's lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Row, Select, bindparam, case, delete, func, insert, select, update
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.cart.domain import Owner
from services.cart.models import Cart, Line, PaidOrder


def _owned_by(owner: Owner) -> ColumnElement[bool]:
    return Cart.user_id == owner.user_id if owner.user_id is not None else Cart.device_id == owner.device_id


async def lock_cart(session: AsyncSession, owner: Owner, now: datetime, *, create: bool = False) -> int | None:
    """The owner's cart id, its row locked until the transaction ends and its `updated_at` set to
    `now`; None when it has none (and `create` is false). The first statement writes (also on
    SQLite, whose transaction then holds the write lock from its start instead of failing to
    upgrade a read)."""
    await session.execute(update(Cart).where(_owned_by(owner)).values(updated_at=now)
                          .execution_options(synchronize_session=False))
    cart_id = await session.scalar(select(Cart.id).where(_owned_by(owner)))
    if cart_id is None and create:
        await _insert_or_lock(session, owner, now)
        cart_id = await session.scalar(select(Cart.id).where(_owned_by(owner)))
    return cart_id


async def _insert_or_lock(session: AsyncSession, owner: Owner, now: datetime) -> None:
    """A new cart row, or, when a concurrent first add created it meanwhile, a lock on that one
    (one statement either way: no duplicate-key error to recover from)."""
    values = {"user_id": owner.user_id, "device_id": owner.device_id, "created_at": now, "updated_at": now}
    if session.get_bind().dialect.name == "mysql":
        statement = mysql_insert(Cart).values(values).on_duplicate_key_update(updated_at=now)
    else:
        key = [Cart.user_id] if owner.user_id is not None else [Cart.device_id]
        statement = sqlite_insert(Cart).values(values).on_conflict_do_update(index_elements=key,
                                                                             set_={"updated_at": now})
    await session.execute(statement)


async def line(session: AsyncSession, cart_id: int, sku_id: int) -> Line | None:
    """Read under the cart's lock: the latest committed row (READ COMMITTED)."""
    return await session.scalar(select(Line).where(Line.cart_id == cart_id, Line.sku_id == sku_id)
                                .execution_options(populate_existing=True))


async def lines(session: AsyncSession, cart_id: int, sku_ids: Sequence[int] | None = None) -> list[Line]:
    query = select(Line).where(Line.cart_id == cart_id).execution_options(populate_existing=True)
    if sku_ids is not None:
        query = query.where(Line.sku_id.in_(sku_ids))
    return list((await session.scalars(query.order_by(Line.id))).all())


async def count_lines(session: AsyncSession, cart_id: int) -> int:
    return await session.scalar(select(func.count()).select_from(Line).where(Line.cart_id == cart_id)) or 0


async def delete_lines(session: AsyncSession, cart_id: int, sku_ids: Sequence[int] | None = None) -> int:
    """The cart's lines of `sku_ids` (all of them when None); how many went."""
    statement = delete(Line).where(Line.cart_id == cart_id)
    if sku_ids is not None:
        statement = statement.where(Line.sku_id.in_(sku_ids))
    return (await session.execute(statement.execution_options(synchronize_session=False))).rowcount


async def set_selected(session: AsyncSession, cart_id: int, selected: bool, now: datetime) -> int:
    """Every line of the cart selected (or not); how many changed."""
    return (await session.execute(update(Line).where(Line.cart_id == cart_id, Line.selected != selected)
                                  .values(selected=selected, updated_at=now)
                                  .execution_options(synchronize_session=False))).rowcount


# --- reads without a lock (the page, the badge) ---------------------------------------------------

PAGE_COLUMNS = (Line.sku_id, Line.spu_id, Line.category_id, Line.business_id, Line.quantity, Line.selected,
                Line.unit_price, Line.added_price, Line.added_at, Line.updated_at)


def _page_query(owner_column: ColumnElement) -> Select:
    return (select(*PAGE_COLUMNS).join(Cart, Cart.id == Line.cart_id).where(owner_column == bindparam("owner"))
            .order_by(Line.added_at.desc(), Line.id.desc()))


# Built once: the page is the cart's hot read (building the statement cost as much as running it).
PAGE_OF_MEMBER, PAGE_OF_DEVICE = _page_query(Cart.user_id), _page_query(Cart.device_id)


async def page_lines(connection: AsyncConnection, owner: Owner) -> Sequence[Row]:
    """The owner's lines as plain rows, the most recently added first: one statement, on a Core
    connection (no ORM session, no objects)."""
    if owner.user_id is not None:
        return (await connection.execute(PAGE_OF_MEMBER, {"owner": owner.user_id})).all()
    return (await connection.execute(PAGE_OF_DEVICE, {"owner": owner.device_id})).all()


async def counts(session: AsyncSession, owner: Owner) -> tuple[int, int, int]:
    """(lines, total quantity, selected lines) of the owner's cart."""
    row = (await session.execute(
        select(func.count(), func.coalesce(func.sum(Line.quantity), 0),
               func.coalesce(func.sum(case((Line.selected, 1), else_=0)), 0))
        .select_from(Line).join(Cart, Cart.id == Line.cart_id).where(_owned_by(owner)))).one()
    return int(row[0]), int(row[1]), int(row[2])


# --- order.paid ------------------------------------------------------------------------------------

async def record_paid_order(session: AsyncSession, order_id: int, user_id: int, paid_at: datetime) -> bool:
    """False when the order was handled before (its row exists): its lines left the cart then.
    Two deliveries at once: the second waits for the first's key and then finds it."""
    try:
        async with session.begin_nested():
            await session.execute(insert(PaidOrder).values(order_id=order_id, user_id=user_id, lines_changed=0,
                                                           paid_at=paid_at))
    except IntegrityError:
        return False
    return True


async def note_lines_changed(session: AsyncSession, order_id: int, changed: int) -> None:
    await session.execute(update(PaidOrder).where(PaidOrder.order_id == order_id).values(lines_changed=changed))


# --- expiry ----------------------------------------------------------------------------------------

async def stale_device_carts(session: AsyncSession, before: datetime, limit: int) -> list[int]:
    """Candidates, from a plain read: `lock_stale` checks each again under its lock."""
    return list((await session.scalars(select(Cart.id).where(Cart.device_id.is_not(None), Cart.updated_at < before)
                                       .order_by(Cart.updated_at).limit(limit))).all())


async def lock_stale(session: AsyncSession, cart_ids: Sequence[int], before: datetime) -> list[int]:
    """Those still unchanged since `before`, locked; a cart a buyer holds right now is skipped
    (the next round looks again), as is one another replica is removing."""
    return list((await session.scalars(select(Cart.id).where(Cart.id.in_(cart_ids), Cart.device_id.is_not(None),
                                                             Cart.updated_at < before)
                                       .with_for_update(skip_locked=True))).all())


async def delete_carts(session: AsyncSession, cart_ids: Sequence[int]) -> int:
    """The carts and their lines."""
    if not cart_ids:
        return 0
    await session.execute(delete(Line).where(Line.cart_id.in_(cart_ids)).execution_options(synchronize_session=False))
    return (await session.execute(delete(Cart).where(Cart.id.in_(cart_ids))
                                  .execution_options(synchronize_session=False))).rowcount
