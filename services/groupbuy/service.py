"""Use cases of the group-buy service: activities (admin), the buyer's pages, seats held at
checkout (hold / pay / release by order id), and the jobs that end groups and run the robots.

Every state change of a group is made with its row locked (`SELECT ... FOR UPDATE`, group first,
then members), so concurrent payments, releases and replicas' jobs see each other's work and a
group succeeds or fails exactly once; the event saying so is written to the outbox in the same
transaction.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.groupbuy import domain
from services.groupbuy import repository as repo
from services.groupbuy.domain import GroupStatus, MemberKind, MemberStatus
from services.groupbuy.models import Activity, Group, Member, Product, mutex, outbox
from services.groupbuy.schemas import ActivityIn, HoldIn, PricesIn
from shared.db import is_deadlock, take_mutex
from shared.enums import CommonStatus
from shared.errors import DomainError
from shared.events import new_event
from shared.outbox import add_to_outbox
from shared.pagination import PageParams

log = logging.getLogger("groupbuy.service")

SOURCE = "promo-groupbuy"
SUCCEEDED = "promo.groupbuy.group-succeeded"
FAILED = "promo.groupbuy.group-failed"


@dataclass(frozen=True)
class Groupbuy:
    """What the seat and job use cases need besides a request; built once per app."""

    sessions: async_sessionmaker
    hold_seconds: int
    robot_nicknames: tuple[str, ...]
    robot_avatar: str = ""

    def robot(self) -> str:
        return random.choice(self.robot_nicknames) if self.robot_nicknames else ""


# --- activities (admin) ---------------------------------------------------------------------------

def terms_of(activity: Activity) -> domain.Terms:
    return domain.Terms(
        id=activity.id, status=CommonStatus(activity.status), start_at=activity.start_at, end_at=activity.end_at,
        group_size=activity.group_size, limit_hours=activity.limit_hours, user_limit=activity.user_limit,
        order_limit=activity.order_limit, virtual_completion=activity.virtual_completion,
        least_population=activity.least_population, robot_join_after_hours=activity.robot_join_after_hours,
        keep_open_groups=activity.keep_open_groups)


def _terms_in(data: ActivityIn, activity_id: int | None) -> domain.Terms:
    return domain.Terms(
        id=activity_id or 0, status=CommonStatus.ENABLED, start_at=data.start_at, end_at=data.end_at,
        group_size=data.group_size, limit_hours=data.limit_hours, user_limit=data.user_limit,
        order_limit=data.order_limit, virtual_completion=data.virtual_completion,
        least_population=data.least_population, robot_join_after_hours=data.robot_join_after_hours,
        keep_open_groups=data.keep_open_groups)


async def _check_activity(session: AsyncSession, data: ActivityIn, activity_id: int | None) -> None:
    await take_mutex(session, mutex, "activity")  # until commit: concurrent creates see each other
    domain.check_activity(_terms_in(data, activity_id), [p.sku_id for p in data.products])
    domain.check_prices([domain.SkuPrice(p.sku_id, p.group_price, p.leader_price) for p in data.products])
    for other in await repo.enabled_activities_of_spu(session, data.spu_id, activity_id):
        if domain.windows_overlap(data.start_at, data.end_at, other.start_at, other.end_at):
            raise domain.SpuConflict(spu_id=data.spu_id, other_name=other.name)


def _apply_activity(activity: Activity, data: ActivityIn, now: datetime) -> None:
    for name in ("name", "spu_id", "start_at", "end_at", "group_size", "limit_hours", "user_limit", "order_limit",
                 "virtual_completion", "least_population", "robot_join_after_hours", "keep_open_groups", "sort",
                 "remark"):
        setattr(activity, name, getattr(data, name))
    activity.updated_at = now


async def create_activity(session: AsyncSession, data: ActivityIn, now: datetime) -> Activity:
    await _check_activity(session, data, None)
    activity = Activity(status=CommonStatus.ENABLED, created_at=now)
    _apply_activity(activity, data, now)
    session.add(activity)
    await session.flush()
    session.add_all([Product(activity_id=activity.id, sku_id=p.sku_id, group_price=p.group_price,
                             leader_price=p.leader_price) for p in data.products])
    await session.flush()
    return activity


async def update_activity(session: AsyncSession, activity_id: int, data: ActivityIn, now: datetime) -> Activity:
    """New prices and rules apply to seats taken from now on; a running group keeps its size and
    each seat keeps the price it was taken at."""
    activity = await _get_activity(session, activity_id, for_update=True)
    domain.check_can_update(CommonStatus(activity.status))
    await _check_activity(session, data, activity_id)
    _apply_activity(activity, data, now)
    existing = {p.sku_id: p for p in (await repo.products_of(session, [activity_id]))[activity_id]}
    wanted = {p.sku_id: p for p in data.products}
    for sku_id, product in existing.items():
        if sku_id not in wanted:
            await session.delete(product)
    for sku_id, p in wanted.items():
        product = existing.get(sku_id)
        if product is None:
            session.add(Product(activity_id=activity_id, sku_id=sku_id, group_price=p.group_price,
                                leader_price=p.leader_price))
        else:
            product.group_price, product.leader_price = p.group_price, p.leader_price
    await session.flush()
    return activity


async def _get_activity(session: AsyncSession, activity_id: int, *, for_update: bool = False) -> Activity:
    activity = await repo.get_activity(session, activity_id, for_update=for_update)
    if activity is None:
        raise domain.ActivityNotFound(id=activity_id)
    return activity


async def close_activity(session: AsyncSession, activity_id: int, now: datetime) -> None:
    """No new group and no new member; running groups end with their time (or fill up virtually)."""
    activity = await _get_activity(session, activity_id, for_update=True)
    domain.check_can_close(CommonStatus(activity.status))
    activity.status, activity.updated_at = CommonStatus.DISABLED, now


async def delete_activity(session: AsyncSession, activity_id: int, now: datetime) -> None:
    activity = await _get_activity(session, activity_id, for_update=True)
    domain.check_can_delete(CommonStatus(activity.status), activity.end_at, now,
                            await repo.running_groups(session, activity_id))
    await session.delete(activity)


async def activity_views(session: AsyncSession, activities: Sequence[Activity]) -> list[dict]:
    ids = [a.id for a in activities]
    products, joined = await repo.products_of(session, ids), await repo.joined_counts(session, ids)
    return [_activity_view(a, products[a.id], joined.get(a.id, 0)) for a in activities]


def _activity_view(activity: Activity, products: Sequence[Product], joined: int) -> dict:
    view = {name: getattr(activity, name) for name in (
        "id", "name", "spu_id", "status", "start_at", "end_at", "group_size", "limit_hours", "user_limit",
        "order_limit", "virtual_completion", "least_population", "robot_join_after_hours", "keep_open_groups",
        "sort", "remark", "created_at", "updated_at")}
    view["joined_count"] = joined
    view["products"] = [{"sku_id": p.sku_id, "group_price": p.group_price,
                         "leader_price": domain.unit_price(p.group_price, p.leader_price, leader=True)}
                        for p in products]
    return view


async def get_activity_view(session: AsyncSession, activity_id: int) -> dict:
    return (await activity_views(session, [await _get_activity(session, activity_id)]))[0]


# --- the buyer's pages ----------------------------------------------------------------------------

async def app_activity(session: AsyncSession, activity_id: int) -> dict:
    activity = await _get_activity(session, activity_id)
    if activity.status != CommonStatus.ENABLED:
        raise domain.ActivityClosed()
    return (await activity_views(session, [activity]))[0]


def group_view(group: Group, now: datetime) -> dict:
    return {"id": group.id, "activity_id": group.activity_id, "spu_id": group.spu_id,
            "leader_nickname": group.leader_nickname, "leader_avatar": group.leader_avatar, "size": group.size,
            "seats_left": max(0, group.size - group.seats_taken), "paid_count": group.paid_count,
            "status": group.status, "expires_at": group.expires_at,
            "time_left_seconds": domain.time_left_seconds(group.expires_at, now)
            if group.status == GroupStatus.IN_PROGRESS else None,
            "opened_at": group.opened_at, "ended_at": group.ended_at}


async def open_groups(session: AsyncSession, activity_id: int, now: datetime, limit: int) -> list[dict]:
    """Groups a buyer can join now: none once the activity is closed."""
    if (await _get_activity(session, activity_id)).status != CommonStatus.ENABLED:
        return []
    return [group_view(g, now) for g in await repo.joinable_groups(session, activity_id, now, limit)]


async def _get_group(session: AsyncSession, group_id: int) -> Group:
    group = await repo.get_group(session, group_id)
    if group is None:
        raise domain.GroupNotFound(id=group_id)
    return group


async def app_group(session: AsyncSession, group_id: int, now: datetime) -> dict:
    """A group and the members who paid (robots and placeholders shown like anyone else)."""
    group = await _get_group(session, group_id)
    if group.status in (GroupStatus.PENDING, GroupStatus.VOID):
        raise domain.GroupNotFound(id=group_id)  # never opened, as far as buyers are concerned
    members = await repo.members_of(session, [group_id], statuses=repo.PAID)
    return {**group_view(group, now), "members": [
        {"nickname": m.nickname, "avatar": m.avatar, "leader": m.leader, "joined_at": m.paid_at} for m in members]}


async def admin_group(session: AsyncSession, group_id: int, now: datetime) -> dict:
    group = await _get_group(session, group_id)
    return {**group_view(group, now), "leader_user_id": group.leader_user_id, "virtual": group.virtual,
            "real_paid_count": group.real_paid_count, "seats_taken": group.seats_taken,
            "started_at": group.started_at, "members": await repo.members_of(session, [group_id])}


async def my_groups(session: AsyncSession, user_id: int, paging: PageParams, now: datetime) -> dict:
    members, total = await repo.my_memberships(session, user_id, paging)
    groups = {g.id: group_view(g, now) for g in await repo.groups_by_id(session, {m.group_id for m in members})}
    items = [{"member_id": m.id, "order_id": m.order_id, "sku_id": m.sku_id, "count": m.count,
              "unit_price": m.unit_price, "leader": m.leader, "status": m.status, "group": groups[m.group_id]}
             for m in members if m.group_id in groups]
    return {"items": items, "total": total, "page": paging.page, "size": paging.size}


async def stats(session: AsyncSession, activity_id: int | None) -> dict:
    groups, members = await repo.group_counts(session, activity_id), await repo.member_counts(session, activity_id)
    real = {status: count for (kind, status), count in members.items() if kind == MemberKind.REAL}
    return {"activity_id": activity_id,
            "groups_opened": sum(c for s, c in groups.items() if s not in (GroupStatus.PENDING, GroupStatus.VOID)),
            "groups_in_progress": groups.get(GroupStatus.IN_PROGRESS, 0),
            "groups_succeeded": groups.get(GroupStatus.SUCCESS, 0),
            "groups_failed": groups.get(GroupStatus.FAILED, 0),
            "members_paid": sum(real.get(s, 0) for s in repo.PAID),
            "members_succeeded": real.get(MemberStatus.SUCCESS, 0),
            "members_failed": real.get(MemberStatus.FAILED, 0),
            "members_pending": real.get(MemberStatus.PENDING, 0),
            "robots": sum(c for (kind, _), c in members.items() if kind == MemberKind.ROBOT),
            "placeholders": sum(c for (kind, _), c in members.items() if kind == MemberKind.VIRTUAL)}


# --- prices and seats (pricing's checkout) --------------------------------------------------------

async def _seat_terms(session: AsyncSession, activity_id: int, group_id: int | None, sku_ids: Sequence[int],
                      now: datetime, *, lock: bool = False,
                      holds_seat: bool = False) -> tuple[Activity, Group | None, dict[int, Product]]:
    """The activity, the group to join (None: a new one; locked with `lock`, which is how the
    race for the last seats is settled) and the SKUs' products, after the rules that do not
    depend on the buyer (`holds_seat`: one of the group's seats is the asking order's own)."""
    activity = await _get_activity(session, activity_id)
    terms = terms_of(activity)
    group = None
    if group_id is None:
        domain.check_can_open(terms, now)
    else:
        group = await repo.get_group(session, group_id, for_update=lock)
        if group is None:
            raise domain.GroupNotFound(id=group_id)
        domain.check_can_join(terms, _state(group), now, holds_seat=holds_seat)
    products = {p.sku_id: p for p in (await repo.products_of(session, [activity_id]))[activity_id]}
    missing = [sku for sku in sku_ids if sku not in products]
    if missing:
        raise domain.SkuNotInActivity(sku_id=missing[0])
    return activity, group, products


def _state(group: Group) -> domain.GroupState:
    return domain.GroupState(group.id, group.activity_id, GroupStatus(group.status), group.size, group.seats_taken,
                             group.expires_at)


async def _check_buyer(session: AsyncSession, activity: Activity, user_id: int, count: int) -> None:
    if await repo.busy_in_activity(session, user_id, activity.id) is not None:
        raise domain.AlreadyInGroup()
    domain.check_counts(terms_of(activity), count, await repo.bought_in_activity(session, user_id, activity.id))


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
    return {"activity_id": activity.id, "activity_name": activity.name, "group_id": request.group_id,
            "leader": leader, "prices": unit_prices}


async def _own_seat(session: AsyncSession, request: PricesIn) -> Member | None:
    """The seat the order already holds for what it asks (the same activity, and the group it
    joins or, opening one, the group it leads), if any."""
    if request.order_id is None:
        return None
    member = await repo.member_by_order(session, request.order_id)
    if member is None or member.status not in domain.HOLDING_SEAT or member.activity_id != request.activity_id:
        return None
    same_group = member.leader if request.group_id is None else member.group_id == request.group_id
    return member if same_group else None


async def hold(gb: Groupbuy, request: HoldIn, now: datetime) -> Member:
    """Checkout: a seat for the order, in a new group (the buyer leads it) or in `group_id`.
    Idempotent by order id: the same order asking again gets the same seat."""
    async with gb.sessions() as session:
        existing = await repo.member_by_order(session, request.order_id)
    if existing is not None:
        return _same_seat(existing, request)
    for attempt in range(3):
        try:
            async with gb.sessions() as session, session.begin():
                return await _take_seat(session, gb, request, now)
        except OperationalError as error:
            if not is_deadlock(error) or attempt == 2:
                raise
        except (IntegrityError, DomainError) as refused:
            # A retry racing the first attempt is refused (its seat was the last, the buyer is now
            # busy...) although the order holds a seat: then that seat is the answer.
            async with gb.sessions() as session:
                existing = await repo.member_by_order(session, request.order_id)
            if existing is not None:
                return _same_seat(existing, request)
            if isinstance(refused, IntegrityError):  # the buyer took a seat in this activity meanwhile
                raise domain.AlreadyInGroup() from None
            raise
    raise AssertionError("unreachable")


def _same_seat(member: Member, request: HoldIn) -> Member:
    same = (member.user_id, member.activity_id, member.sku_id, member.count) == (
        request.user_id, request.activity_id, request.sku_id, request.count)
    if not same or (request.group_id is not None and request.group_id != member.group_id):
        raise domain.OrderHoldsAnotherSeat(order_id=request.order_id)
    if member.status == MemberStatus.VOID or member.status == MemberStatus.FAILED:
        raise domain.GroupNotJoinable(id=member.group_id)
    return member


async def _take_seat(session: AsyncSession, gb: Groupbuy, request: HoldIn, now: datetime) -> Member:
    activity, group, products = await _seat_terms(session, request.activity_id, request.group_id,
                                                  [request.sku_id], now, lock=True)
    await _check_buyer(session, activity, request.user_id, request.count)
    product = products[request.sku_id]
    if group is not None:
        group.seats_taken, group.updated_at = group.seats_taken + 1, now
    else:
        group = Group(activity_id=activity.id, spu_id=activity.spu_id, leader_user_id=request.user_id,
                      leader_nickname=request.nickname, leader_avatar=request.avatar, size=activity.group_size,
                      seats_taken=1, paid_count=0, real_paid_count=0, status=GroupStatus.PENDING, virtual=False,
                      opened_at=now, updated_at=now)
        session.add(group)
        await session.flush()
    leader = request.group_id is None
    member = Member(group_id=group.id, activity_id=activity.id, user_id=request.user_id,
                    busy_user_id=request.user_id, nickname=request.nickname, avatar=request.avatar,
                    kind=MemberKind.REAL, leader=leader, sku_id=request.sku_id, count=request.count,
                    unit_price=domain.unit_price(product.group_price, product.leader_price, leader),
                    order_id=request.order_id, status=MemberStatus.PENDING,
                    hold_expires_at=now + timedelta(seconds=gb.hold_seconds), created_at=now, updated_at=now)
    session.add(member)
    await session.flush()
    return member


async def release_order(gb: Groupbuy, order_id: int, now: datetime) -> bool:
    """Checkout failed elsewhere: the order's seat goes back, if not paid (idempotent)."""
    async with gb.sessions() as session, session.begin():
        return await release_unpaid(session, order_id, now)


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
    if member.status != MemberStatus.PENDING or group.status in domain.ENDED_GROUP:
        return False
    if due_by is not None and (member.hold_expires_at is None or member.hold_expires_at > due_by):
        return False
    _free_seat(group, member, now)
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
    if member.status not in domain.HOLDING_SEAT or group.status in domain.ENDED_GROUP:
        return False
    was_paid = member.status == MemberStatus.JOINED
    _free_seat(group, member, now)
    if was_paid and not paid:
        await _publish(session, FAILED, group, now, order_ids=[order_id], reason="paid_order_cancelled")
    return True


def _free_seat(group: Group, member: Member, now: datetime) -> None:
    if member.status == MemberStatus.JOINED:
        group.paid_count -= 1
        group.real_paid_count -= 1
    _end_member(member, MemberStatus.VOID, now)
    group.seats_taken -= 1
    if group.status == GroupStatus.PENDING:  # only its leader was in it
        group.status, group.ended_at = GroupStatus.VOID, now
    group.updated_at = now


def _end_member(member: Member, status: MemberStatus, now: datetime) -> None:
    member.status, member.busy_user_id, member.ended_at, member.updated_at = status, None, now, now


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
    if (member.status == MemberStatus.PENDING and group.status == GroupStatus.IN_PROGRESS
            and group.expires_at is not None and group.expires_at <= paid_at):
        await _end_group(session, group, now)  # paid too late: the group ends first, as the job would
    if member.status != MemberStatus.PENDING:
        if member.status == MemberStatus.VOID and member.paid_at is None:
            member.paid_at, member.updated_at = paid_at, now
            await _publish(session, FAILED, group, now, order_ids=[order_id], reason="paid_after_seat_released")
            return True
        return False
    member.status, member.paid_at, member.updated_at = MemberStatus.JOINED, paid_at, now
    group.paid_count += 1
    group.real_paid_count += 1
    group.updated_at = now
    if group.status == GroupStatus.PENDING:
        activity = await repo.get_activity(session, group.activity_id)
        assert activity is not None  # an activity with a running group cannot be deleted
        group.status, group.started_at = GroupStatus.IN_PROGRESS, paid_at
        group.expires_at = domain.expires_at(paid_at, activity.limit_hours)
        group.robots_at = domain.robots_due_at(paid_at, activity.robot_join_after_hours)
    if group.paid_count >= group.size:
        await _succeed(session, group, now)
    return True


async def _end_seats(session: AsyncSession, group: Group, paid_become: MemberStatus, now: datetime) -> list[int]:
    """Every seat ends with its group: the paid ones as `paid_become`, the unpaid ones given back.
    Returns the paid real orders."""
    await session.flush()  # stand-ins just added are members too (the session does not autoflush)
    order_ids = []
    for member in await repo.members_of(session, [group.id], for_update=True):
        if member.status == MemberStatus.JOINED:
            _end_member(member, paid_become, now)
            if member.order_id is not None:
                order_ids.append(member.order_id)
        elif member.status == MemberStatus.PENDING:
            _end_member(member, MemberStatus.VOID, now)
    return order_ids


async def _succeed(session: AsyncSession, group: Group, now: datetime) -> None:
    order_ids = await _end_seats(session, group, MemberStatus.SUCCESS, now)
    group.status, group.ended_at, group.updated_at = GroupStatus.SUCCESS, now, now
    await _publish(session, SUCCEEDED, group, now, order_ids=order_ids, virtual=group.virtual)


async def _fail(session: AsyncSession, group: Group, now: datetime) -> None:
    order_ids = await _end_seats(session, group, MemberStatus.FAILED, now)
    group.status, group.ended_at, group.updated_at = GroupStatus.FAILED, now, now
    if order_ids:  # a robot-led group nobody paid into has nothing to refund
        await _publish(session, FAILED, group, now, order_ids=order_ids, reason="expired")


async def _publish(session: AsyncSession, event_type: str, group: Group, now: datetime, *, order_ids: list[int],
                   **data) -> None:
    stamp = "succeeded_at" if event_type == SUCCEEDED else "failed_at"
    await add_to_outbox(session, outbox, new_event(event_type, source=SOURCE, subject=group.id, time=now, data={
        "group_id": group.id, "activity_id": group.activity_id, "spu_id": group.spu_id, "order_ids": order_ids,
        stamp: now.isoformat(), **data}))


# --- jobs -----------------------------------------------------------------------------------------

async def expire_holds(gb: Groupbuy, now: datetime) -> int:
    """Seats not paid in time go back (each once, whichever replica gets there)."""
    async with gb.sessions() as session:
        due = await repo.due_holds(session, now)
    released = 0
    for order_id in due:
        async with gb.sessions() as session, session.begin():
            released += await release_unpaid(session, order_id, now, due_by=now)
    return released


async def end_due_groups(gb: Groupbuy, now: datetime) -> tuple[int, int]:
    """Groups whose time is up: completed virtually when the activity allows it and enough real
    buyers paid, failed otherwise. Returns (completed, failed)."""
    completed = failed = 0
    async with gb.sessions() as session:
        due = await repo.due_groups(session, now)
    for group_id in due:
        async with gb.sessions() as session, session.begin():
            group = await repo.get_group(session, group_id, for_update=True)
            if group is None or group.status != GroupStatus.IN_PROGRESS or group.expires_at > now:
                continue  # another replica (or a late payment) got there first
            if await _end_group(session, group, now):
                completed += 1
            else:
                failed += 1
    return completed, failed


async def _end_group(session: AsyncSession, group: Group, now: datetime) -> bool:
    """Time is up (the group is locked): virtual completion when the activity allows it and enough
    real buyers paid (True), else failure (False)."""
    activity = await repo.get_activity(session, group.activity_id)
    if activity is not None and activity.virtual_completion and domain.can_complete_without_buyers(
            group.real_paid_count, activity.least_population):
        _fill(session, group, MemberKind.VIRTUAL, now)
        await _succeed(session, group, now)
        return True
    await _fail(session, group, now)
    return False


def _fill(session: AsyncSession, group: Group, kind: MemberKind, now: datetime, *, nickname=lambda: "",
          avatar: str = "") -> int:
    """Paid stand-ins for the free seats: robots (the group stays open for its pending seats), or
    placeholders when its time is up (pending seats are given back, so they take those too)."""
    if kind == MemberKind.VIRTUAL:
        seats, group.seats_taken = group.size - group.paid_count, group.size
    else:
        seats = group.size - group.seats_taken
        group.seats_taken += seats
    session.add_all([Member(group_id=group.id, activity_id=group.activity_id, kind=kind, nickname=nickname(),
                            avatar=avatar, status=MemberStatus.JOINED, paid_at=now, created_at=now, updated_at=now)
                     for _ in range(seats)])
    group.paid_count += seats
    group.virtual = True
    return seats


async def robots_join(gb: Groupbuy, now: datetime) -> int:
    """Robots take the free seats of groups past their activity's robot_join_after_hours, when
    enough real buyers paid; the group succeeds at once, or when its pending seats are paid."""
    joined = 0
    async with gb.sessions() as session:
        due = await repo.groups_due_for_robots(session, now)
    for group_id in due:
        async with gb.sessions() as session, session.begin():
            group = await repo.get_group(session, group_id, for_update=True)
            if (group is None or group.status != GroupStatus.IN_PROGRESS or group.seats_taken >= group.size
                    or group.expires_at is None or group.expires_at <= now):
                continue  # another replica got there first, or its time is up (the expiry decides)
            activity = await repo.get_activity(session, group.activity_id)
            if activity is None or activity.status != CommonStatus.ENABLED or not (
                    domain.can_complete_without_buyers(group.real_paid_count, activity.least_population)):
                continue  # a closed activity takes no new member, robots included
            joined += _fill(session, group, MemberKind.ROBOT, now, nickname=gb.robot, avatar=gb.robot_avatar)
            if group.paid_count >= group.size:
                await _succeed(session, group, now)
    return joined


async def keep_groups_open(gb: Groupbuy, now: datetime) -> int:
    """Robot-led groups, so a buyer always finds one to join: up to each running activity's
    keep_open_groups joinable groups. The activity row's lock keeps replicas from both adding."""
    opened = 0
    async with gb.sessions() as session:
        activity_ids = [a.id for a in await repo.running_with_robot_leaders(session, now)]
    for activity_id in activity_ids:
        async with gb.sessions() as session, session.begin():
            activity = await repo.get_activity(session, activity_id, for_update=True)
            if activity is None or activity.status != CommonStatus.ENABLED or not (
                    activity.start_at <= now < activity.end_at):
                continue
            missing = activity.keep_open_groups - await repo.count_joinable(session, activity_id, now)
            for _ in range(max(0, missing)):
                await _open_robot_group(session, gb, activity, now)
                opened += 1
    return opened


async def _open_robot_group(session: AsyncSession, gb: Groupbuy, activity: Activity, now: datetime) -> Group:
    nickname = gb.robot()
    group = Group(activity_id=activity.id, spu_id=activity.spu_id, leader_user_id=None, leader_nickname=nickname,
                  leader_avatar=gb.robot_avatar, size=activity.group_size, seats_taken=1, paid_count=1,
                  real_paid_count=0, status=GroupStatus.IN_PROGRESS, virtual=True, opened_at=now, started_at=now,
                  expires_at=domain.expires_at(now, activity.limit_hours),
                  robots_at=domain.robots_due_at(now, activity.robot_join_after_hours), updated_at=now)
    session.add(group)
    await session.flush()
    session.add(Member(group_id=group.id, activity_id=activity.id, kind=MemberKind.ROBOT, leader=True,
                       nickname=nickname, avatar=gb.robot_avatar, status=MemberStatus.JOINED, paid_at=now,
                       created_at=now, updated_at=now))
    return group
