"""Seats, by order id (pricing's checkout, see ../../docs/checkout.md, and the order events):
prices, a seat taken, given back, cancelled, paid. The rules and every state change are the
domain's (`domain.rules`, `domain.transitions`); these functions read and lock the rows, ask the
domain, and write its answer (groups.apply). They flush and never commit: the caller owns the
transaction (flows.py for checkout, the consumer runner for the order events).

Every state change of a group is made with its row locked (`SELECT ... FOR UPDATE`, group first,
then members), so concurrent payments, releases and replicas' jobs see each other's work and a
group succeeds or fails exactly once; the event saying so is written to the outbox in the same
transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.groupbuy import domain, groups
from services.groupbuy import repository as repo
from services.groupbuy.domain import MemberKind
from services.groupbuy.models import Activity, Group, Member, Product
from services.groupbuy.schemas import HoldIn, PricesIn


async def _seat_terms(session: AsyncSession, activity_id: int, group_id: int | None, sku_ids: Sequence[int],
                      now: datetime, *, lock: bool = False,
                      holds_seat: bool = False) -> tuple[Activity, Group | None, dict[int, Product]]:
    """The activity, the group to join (None: a new one; locked with `lock`, which is how the
    race for the last seats is settled) and the SKUs' products, after the rules that do not
    depend on the buyer (`holds_seat`: one of the group's seats is the asking order's own)."""
    activity = await repo.get_activity(session, activity_id)
    if activity is None:
        raise domain.ActivityNotFound(id=activity_id)
    terms = groups.terms_of(activity)
    group = None
    if group_id is None:
        domain.check_can_open(terms, now)
    else:
        group = await repo.get_group(session, group_id, for_update=lock)
        if group is None:
            raise domain.GroupNotFound(id=group_id)
        domain.check_can_join(terms, groups.group_state(group), now, holds_seat=holds_seat)
    products = {p.sku_id: p for p in (await repo.products_of(session, [activity_id]))[activity_id]}
    missing = [sku for sku in sku_ids if sku not in products]
    if missing:
        raise domain.SkuNotInActivity(sku_id=missing[0])
    return activity, group, products


async def prices(session: AsyncSession, request: PricesIn, now: datetime) -> dict:
    """Pricing: the leader price when opening a group, the group price when joining one, once the
    activity, the group and the SKUs pass their checks (the buyer's own limits are checked when
    the seat is taken, at checkout). A checkout retried after a crash (`order_id` already holds a
    seat of this activity and group) is priced with its own seat counted as its own, not as one
    taken by another buyer, and its SKU at the price the seat was taken at."""
    own = await _own_seat(session, request)
    activity, _, products = await _seat_terms(session, request.activity_id, request.group_id, request.sku_ids, now,
                                              holds_seat=own is not None)
    leader = request.group_id is None
    unit_prices = {sku: domain.unit_price(products[sku].group_price, products[sku].leader_price, leader)
                   for sku in request.sku_ids}
    if own is not None and own.sku_id in unit_prices:
        unit_prices[own.sku_id] = own.unit_price
    return {"activity_id": activity.id, "activity_name": activity.name, "business_id": activity.business_id,
            "group_id": request.group_id,
            "leader": leader, "prices": unit_prices}


async def _own_seat(session: AsyncSession, request: PricesIn) -> Member | None:
    """The seat the order already holds for what it asks, if any."""
    if request.order_id is None:
        return None
    member = await repo.member_by_order(session, request.order_id)
    if member is None or not domain.is_own_seat(member.status, member.leader, (member.activity_id, member.group_id),
                                                (request.activity_id, request.group_id)):
        return None
    return member


def same_seat(member: Member, request: HoldIn) -> Member:
    """The seat an order holds is the answer to the same order asking again."""
    held = domain.SeatRequest(order_id=request.order_id, user_id=member.user_id, activity_id=member.activity_id,
                              group_id=member.group_id, sku_id=member.sku_id, count=member.count)
    domain.check_same_seat(held, member.status, _asked(request))
    return member


def _asked(request: HoldIn) -> domain.SeatRequest:
    return domain.SeatRequest(order_id=request.order_id, user_id=request.user_id, activity_id=request.activity_id,
                              group_id=request.group_id, sku_id=request.sku_id, count=request.count)


async def take_seat(session: AsyncSession, request: HoldIn, now: datetime, hold_seconds: int) -> Member:
    """Checkout: a seat for the order, pending payment, in a new group (the buyer leads it) or in
    `group_id` (its row locked: the race for the last seats is settled there). The unique key on
    (activity, busy buyer) refuses a buyer's second running seat at flush (IntegrityError)."""
    activity, group, products = await _seat_terms(session, request.activity_id, request.group_id,
                                                  [request.sku_id], now, lock=True)
    await _check_buyer(session, groups.terms_of(activity), request.user_id, request.count)
    if group is not None:
        groups.write_group(group, domain.join(groups.group_state(group)), now)
    else:
        group = groups.new_group(domain.open_group(groups.terms_of(activity)), activity.spu_id, now,
                                 leader_user_id=request.user_id, leader_nickname=request.nickname,
                                 leader_avatar=request.avatar)
        session.add(group)
        await session.flush()
    member = _new_seat(group, products[request.sku_id], request, domain.hold_seat(
        request.user_id, request.order_id, now, hold_seconds), now)
    session.add(member)
    await session.flush()
    return member


async def _check_buyer(session: AsyncSession, terms: domain.Terms, user_id: int, count: int) -> None:
    if await repo.busy_in_activity(session, user_id, terms.id) is not None:
        raise domain.AlreadyInGroup()
    domain.check_counts(terms, count, await repo.bought_in_activity(session, user_id, terms.id))


def _new_seat(group: Group, product: Product, request: HoldIn, seat: domain.SeatState, now: datetime) -> Member:
    leader = request.group_id is None
    return Member(group_id=group.id, activity_id=group.activity_id, user_id=request.user_id,
                  nickname=request.nickname, avatar=request.avatar, kind=MemberKind.REAL, leader=leader,
                  sku_id=request.sku_id, count=request.count,
                  unit_price=domain.unit_price(product.group_price, product.leader_price, leader),
                  order_id=seat.order_id, created_at=now, updated_at=now,
                  **{name: getattr(seat, name) for name in groups.SEAT_STATE})


async def _locked_seat(session: AsyncSession, order_id: int) -> tuple[Group, Member] | None:
    """The order's seat and its group, locked (group first) and read afresh."""
    found = await repo.member_by_order(session, order_id)
    if found is None:
        return None
    group = await repo.get_group(session, found.group_id, for_update=True)
    member = await repo.member_by_order(session, order_id, for_update=True)
    assert group is not None and member is not None
    return group, member


async def release_unpaid(session: AsyncSession, order_id: int, now: datetime, *,
                         due_by: datetime | None = None) -> bool:
    """A seat not paid yet goes back: checkout failed, or (`due_by`) its hold ran out by then.
    Checked under the lock, so a payment that got there first keeps its seat."""
    locked = await _locked_seat(session, order_id)
    if locked is None:
        return False
    group, member = locked
    step = domain.release(groups.group_state(group), groups.seat_state(member), now, due_by=due_by)
    if step is None:
        return False
    await groups.apply(session, group, step, now, member=member)
    return True


async def cancel_order(session: AsyncSession, order_id: int, now: datetime, *, paid: bool) -> bool:
    """order.cancelled: the seat of a running group goes back, once; nothing changes in an ended
    group (a successful group's after-sale is the order service's business). A paid seat of an
    order cancelled as unpaid (its payment reached us first: the two topics are not ordered
    together) gets a failure event, so that payment is refunded; a cancelled paid order is
    refunded by the order service itself."""
    locked = await _locked_seat(session, order_id)
    if locked is None:
        return False
    group, member = locked
    step = domain.cancel(groups.group_state(group), groups.seat_state(member), now, paid=paid)
    if step is None:
        return False
    await groups.apply(session, group, step, now, member=member)
    return True


async def pay(session: AsyncSession, order_id: int, paid_at: datetime, now: datetime) -> bool:
    """order.paid: the seat becomes real; the leader's payment opens the group to others; the last
    seat paid makes the group succeed. A payment for a seat that was given back (its hold ran
    out, its order was cancelled, its group ended, or its group's time was up before it was paid)
    is not counted: that order gets a failure event of its own, so it is refunded. Idempotent:
    the seat's state says what was done."""
    locked = await _locked_seat(session, order_id)
    if locked is None:
        return False  # not a group-buy order
    group, member = locked
    step = domain.pay(groups.group_state(group), groups.seat_state(member),
                      await groups.terms(session, group.activity_id), paid_at, now)
    if step is None:
        return False
    await groups.apply(session, group, step, now, member=member)
    return True

