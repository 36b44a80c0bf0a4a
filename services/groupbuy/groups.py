"""A group's rows and what happens to a group as a whole: the domain's states read from and
written to the rows, a transition's `Step` applied (stand-ins added, every seat ended with its
group, the events written to the outbox), and the jobs' steps for one group or activity (its end
when its time is up, robots, robot leaders). Every function runs with the group row locked
(`SELECT ... FOR UPDATE`, read afresh) or the activity row for robot leaders; none commits: the
caller owns the transaction (flows.py, the consumer runner)."""

from __future__ import annotations

import random
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.groupbuy import domain
from services.groupbuy import repository as repo
from services.groupbuy.domain import GroupStatus, MemberKind, MemberStatus
from services.groupbuy.models import Activity, Group, Member, outbox
from shared.enums import CommonStatus
from shared.events import new_event
from shared.outbox import add_to_outbox

SOURCE = "promo-groupbuy"
SUCCEEDED = "promo.groupbuy.group-succeeded"
FAILED = "promo.groupbuy.group-failed"

GROUP_STATE = tuple(f.name for f in fields(domain.GroupState) if f.name not in ("id", "activity_id", "size"))
SEAT_STATE = tuple(f.name for f in fields(domain.SeatState) if f.name != "order_id")


@dataclass(frozen=True)
class Robots:
    """How robots look: a nickname drawn from these (masked like buyers' names) and an avatar."""

    nicknames: tuple[str, ...] = ()
    avatar: str = ""

    def nickname(self) -> str:
        return random.choice(self.nicknames) if self.nicknames else ""


def terms_of(activity: Activity) -> domain.Terms:
    return domain.Terms(
        id=activity.id, status=CommonStatus(activity.status), start_at=activity.start_at, end_at=activity.end_at,
        group_size=activity.group_size, limit_hours=activity.limit_hours, user_limit=activity.user_limit,
        order_limit=activity.order_limit, virtual_completion=activity.virtual_completion,
        least_population=activity.least_population, robot_join_after_hours=activity.robot_join_after_hours,
        keep_open_groups=activity.keep_open_groups)


async def terms(session: AsyncSession, activity_id: int) -> domain.Terms | None:
    """The activity's terms, None once it was deleted (its groups stay for the record)."""
    activity = await repo.get_activity(session, activity_id)
    return None if activity is None else terms_of(activity)


def group_state(group: Group) -> domain.GroupState:
    return domain.GroupState(id=group.id, activity_id=group.activity_id, status=GroupStatus(group.status),
                             size=group.size, **{name: getattr(group, name) for name in GROUP_STATE
                                                 if name != "status"})


def seat_state(member: Member) -> domain.SeatState:
    return domain.SeatState(status=MemberStatus(member.status), order_id=member.order_id,
                            **{name: getattr(member, name) for name in SEAT_STATE if name != "status"})


def new_group(state: domain.GroupState, spu_id: int, now: datetime, **leader) -> Group:
    """A group row in `state`; `leader`: leader_user_id (None: a robot), leader_nickname, leader_avatar."""
    return Group(activity_id=state.activity_id, spu_id=spu_id, size=state.size, opened_at=now, updated_at=now,
                 **{name: getattr(state, name) for name in GROUP_STATE}, **leader)


def write_group(group: Group, state: domain.GroupState, now: datetime) -> None:
    if state != group_state(group):
        for name in GROUP_STATE:
            setattr(group, name, getattr(state, name))
        group.updated_at = now


def write_seat(member: Member, state: domain.SeatState, now: datetime) -> None:
    if state != seat_state(member):
        for name in SEAT_STATE:
            setattr(member, name, getattr(state, name))
        member.updated_at = now


async def apply(session: AsyncSession, group: Group, step: domain.Step, now: datetime, *,
                member: Member | None = None, robots: Robots | None = None) -> None:
    """Writes a transition's step in its order: the seat (`member`), the group, the stand-ins;
    when the group ended, every seat of it ends too and the end is announced; then the seat's own
    refund, if any."""
    if step.seat is not None:
        assert member is not None
        write_seat(member, step.seat, now)
    write_group(group, step.group, now)
    if step.stand_ins is not None:
        _add_stand_ins(session, group, step.stand_ins, now, robots or Robots())
    if step.ended is not None:
        await _end_seats(session, group, step.ended, now)
    if step.refund is not None:
        assert member is not None and member.order_id is not None
        await _publish(session, FAILED, group, now, order_ids=[member.order_id], reason=step.refund)


def _add_stand_ins(session: AsyncSession, group: Group, stand_ins: domain.StandIns, now: datetime,
                   robots: Robots) -> None:
    """Paid seats without an order: robots (named like buyers) or placeholders."""
    robot = stand_ins.kind == MemberKind.ROBOT
    session.add_all([Member(group_id=group.id, activity_id=group.activity_id, kind=stand_ins.kind,
                            nickname=robots.nickname() if robot else "", avatar=robots.avatar if robot else "",
                            status=MemberStatus.JOINED, paid_at=now, created_at=now, updated_at=now)
                     for _ in range(stand_ins.count)])


async def _end_seats(session: AsyncSession, group: Group, ended: GroupStatus, now: datetime) -> None:
    """Every seat ends with its group (locked, after the group); the end is announced with the
    paid orders to ship or refund."""
    await session.flush()  # stand-ins just added are seats too (the session does not autoflush)
    members = await repo.members_of(session, [group.id], for_update=True)
    seats, order_ids = domain.end_seats([seat_state(m) for m in members], ended, now)
    for member, seat in zip(members, seats, strict=True):
        write_seat(member, seat, now)
    if not domain.announced(ended, order_ids):
        return
    if ended == GroupStatus.SUCCESS:
        await _publish(session, SUCCEEDED, group, now, order_ids=order_ids, virtual=group.virtual)
    else:
        await _publish(session, FAILED, group, now, order_ids=order_ids, reason=domain.EXPIRED)


async def _publish(session: AsyncSession, event_type: str, group: Group, now: datetime, *, order_ids: list[int],
                   **data) -> None:
    stamp = "succeeded_at" if event_type == SUCCEEDED else "failed_at"
    await add_to_outbox(session, outbox, new_event(event_type, source=SOURCE, subject=group.id, time=now, data={
        "group_id": group.id, "activity_id": group.activity_id, "spu_id": group.spu_id, "order_ids": order_ids,
        stamp: now.isoformat(), **data}))


# --- the jobs' steps, one group or activity each --------------------------------------------------

async def end_if_due(session: AsyncSession, group_id: int, now: datetime) -> GroupStatus | None:
    """A group whose time is up ends: completed virtually (SUCCESS) or failed (FAILED); None when
    another replica, or a late payment, ended it first."""
    group = await repo.get_group(session, group_id, for_update=True)
    if group is None:
        return None
    step = domain.end_if_due(group_state(group), await terms(session, group.activity_id), now)
    if step is None:
        return None
    await apply(session, group, step, now)
    return step.ended


async def robots_join(session: AsyncSession, group_id: int, now: datetime, robots: Robots) -> int:
    """Robots take the free seats of the group when it is their time; how many joined."""
    group = await repo.get_group(session, group_id, for_update=True)
    if group is None:
        return 0
    step = domain.robots_join(group_state(group), await terms(session, group.activity_id), now)
    if step is None or step.stand_ins is None:
        return 0
    await apply(session, group, step, now, robots=robots)
    return step.stand_ins.count


async def open_robot_groups(session: AsyncSession, activity_id: int, now: datetime, robots: Robots) -> int:
    """Robot-led groups, so that the activity keeps `keep_open_groups` joinable; the activity's
    row lock keeps replicas from both adding. How many opened."""
    activity = await repo.get_activity(session, activity_id, for_update=True)
    if activity is None:
        return 0
    missing = domain.robot_groups_to_open(terms_of(activity), await repo.count_joinable(session, activity_id, now),
                                          now)
    for _ in range(missing):
        nickname = robots.nickname()
        group = new_group(domain.open_robot_group(terms_of(activity), now), activity.spu_id, now,
                          leader_user_id=None, leader_nickname=nickname, leader_avatar=robots.avatar)
        session.add(group)
        await session.flush()
        session.add(Member(group_id=group.id, activity_id=activity.id, kind=MemberKind.ROBOT, leader=True,
                           nickname=nickname, avatar=robots.avatar, status=MemberStatus.JOINED, paid_at=now,
                           created_at=now, updated_at=now))
    return missing
