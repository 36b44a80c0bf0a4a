"""The group-buy functions that own their transactions: a checkout's seat (run again when MariaDB
picks it as a deadlock's victim, and answered by the seat a racing first attempt took), its
release, and the jobs, whose every group (or activity) is a transaction of its own so one
failure or one busy row holds nothing else back. Everything they change is decided and written
by service.py and groups.py, which only flush."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.groupbuy import domain, groups, service
from services.groupbuy import repository as repo
from services.groupbuy.domain import GroupStatus
from services.groupbuy.models import Member
from services.groupbuy.schemas import HoldIn
from shared.db import in_transaction
from shared.errors import DomainError


@dataclass(frozen=True)
class Groupbuy:
    """What the seat and job flows need besides a request; built once per app."""

    sessions: async_sessionmaker[AsyncSession]
    hold_seconds: int
    robots: groups.Robots = field(default_factory=groups.Robots)


async def hold(gb: Groupbuy, request: HoldIn, now: datetime) -> Member:
    """Checkout: a seat for the order, in a new group (the buyer leads it) or in `group_id`.
    Idempotent by order id: the same order asking again gets the same seat."""
    async with gb.sessions() as session:
        existing = await repo.member_by_order(session, request.order_id)
    if existing is not None:
        return service.same_seat(existing, request)
    try:
        return await in_transaction(gb.sessions, lambda session: service.take_seat(session, request, now,
                                                                                   gb.hold_seconds))
    except (IntegrityError, DomainError) as refused:
        return await _seat_taken_meanwhile(gb, request, refused)


async def _seat_taken_meanwhile(gb: Groupbuy, request: HoldIn, refused: IntegrityError | DomainError) -> Member:
    """A retry racing the first attempt is refused (its seat was the last, the buyer is now
    busy...) although the order holds a seat: then that seat is the answer."""
    async with gb.sessions() as session:
        existing = await repo.member_by_order(session, request.order_id)
    if existing is not None:
        return service.same_seat(existing, request)
    if isinstance(refused, IntegrityError):  # the buyer took a seat in this activity meanwhile
        raise domain.AlreadyInGroup() from None
    raise refused


async def release_order(gb: Groupbuy, order_id: int, now: datetime) -> bool:
    """Checkout failed elsewhere: the order's seat goes back, if not paid (idempotent)."""
    async with gb.sessions() as session, session.begin():
        return await service.release_unpaid(session, order_id, now)


# --- jobs: each group or activity in a transaction of its own -------------------------------------

async def expire_holds(gb: Groupbuy, now: datetime) -> int:
    """Seats not paid in time go back (each once, whichever replica gets there)."""
    async with gb.sessions() as session:
        due = await repo.due_holds(session, now)
    released = 0
    for order_id in due:
        async with gb.sessions() as session, session.begin():
            released += await service.release_unpaid(session, order_id, now, due_by=now)
    return released


async def end_due_groups(gb: Groupbuy, now: datetime) -> tuple[int, int]:
    """Groups whose time is up: completed virtually when the activity allows it and enough real
    buyers paid, failed otherwise. Returns (completed, failed)."""
    async with gb.sessions() as session:
        due = await repo.due_groups(session, now)
    ended = []
    for group_id in due:
        async with gb.sessions() as session, session.begin():
            ended.append(await groups.end_if_due(session, group_id, now))
    return ended.count(GroupStatus.SUCCESS), ended.count(GroupStatus.FAILED)


async def robots_join(gb: Groupbuy, now: datetime) -> int:
    """Robots take the free seats of groups past their activity's robot_join_after_hours, when
    enough real buyers paid; the group succeeds at once, or when its pending seats are paid."""
    async with gb.sessions() as session:
        due = await repo.groups_due_for_robots(session, now)
    joined = 0
    for group_id in due:
        async with gb.sessions() as session, session.begin():
            joined += await groups.robots_join(session, group_id, now, gb.robots)
    return joined


async def keep_groups_open(gb: Groupbuy, now: datetime) -> int:
    """Robot-led groups, so a buyer always finds one to join: up to each running activity's
    keep_open_groups joinable groups."""
    async with gb.sessions() as session:
        activity_ids = [a.id for a in await repo.running_with_robot_leaders(session, now)]
    opened = 0
    for activity_id in activity_ids:
        async with gb.sessions() as session, session.begin():
            opened += await groups.open_robot_groups(session, activity_id, now, gb.robots)
    return opened
