"""Tables owned by the group-buy service."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import BigId, UTCDateTime, make_metadata, mutex_table
from shared.outbox import inbox_table, outbox_table


class Base(DeclarativeBase):
    metadata = make_metadata()


class Activity(Base):
    """拼团活动: one SPU, a group size, how long a group may take to fill, and the robots' rules."""

    __tablename__ = "groupbuy_activity"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(50))
    spu_id: Mapped[int] = mapped_column(BigInteger, index=True)
    business_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)  # None: the platform's
    status: Mapped[int] = mapped_column(SmallInteger)  # CommonStatus: DISABLED = closed for good
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    group_size: Mapped[int] = mapped_column(Integer)  # user_size: seats per group, the leader's included
    limit_hours: Mapped[int] = mapped_column(Integer)  # a group must fill within this after the leader paid
    user_limit: Mapped[int] = mapped_column(Integer, default=0)  # units per user, all orders; 0 = none
    order_limit: Mapped[int] = mapped_column(Integer, default=0)  # units per order; 0 = none
    virtual_completion: Mapped[bool] = mapped_column(Boolean, default=False)
    least_population: Mapped[int] = mapped_column(Integer, default=1)  # real paid members for virtual/robots
    robot_join_after_hours: Mapped[int] = mapped_column(Integer, default=0)  # 0 = off
    keep_open_groups: Mapped[int] = mapped_column(Integer, default=0)  # robot-led groups kept open; 0 = off
    sort: Mapped[int] = mapped_column(Integer, default=0)
    remark: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Product(Base):
    """A SKU of the activity: the group price (参团价) and the leader's price (开团价, None = the
    group price)."""

    __tablename__ = "groupbuy_product"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("groupbuy_activity.id", ondelete="CASCADE"))
    sku_id: Mapped[int] = mapped_column(BigInteger)
    group_price: Mapped[int] = mapped_column(BigInteger)  # fen per unit
    leader_price: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (UniqueConstraint("activity_id", "sku_id"),)


class Group(Base):
    """A group (团): its seats, and the counters its state changes are conditioned on."""

    __tablename__ = "groupbuy_group"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    activity_id: Mapped[int] = mapped_column(BigInteger)
    spu_id: Mapped[int] = mapped_column(BigInteger)
    leader_user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # None: a robot leads
    leader_nickname: Mapped[str] = mapped_column(String(64), default="")
    leader_avatar: Mapped[str] = mapped_column(String(512), default="")
    size: Mapped[int] = mapped_column(Integer)
    seats_taken: Mapped[int] = mapped_column(Integer)  # pending and paid members
    paid_count: Mapped[int] = mapped_column(Integer, default=0)  # paid real members, robots, placeholders
    real_paid_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[int] = mapped_column(SmallInteger)  # GroupStatus
    virtual: Mapped[bool] = mapped_column(Boolean, default=False)  # completed by placeholders or robots
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    robots_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)  # the leader paid
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index(None, "activity_id", "status"), Index(None, "status", "expires_at"),
                      Index(None, "status", "robots_at"))


class Member(Base):
    """A seat in a group: a buyer's order, a robot, or a placeholder of virtual completion.
    `busy_user_id` is the user id while the seat is pending or paid in a running group and NULL
    otherwise: its unique key with the activity is the database's guard of "one group in progress
    per user and activity" (and so of "not the same group twice")."""

    __tablename__ = "groupbuy_member"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    group_id: Mapped[int] = mapped_column(BigInteger, index=True)
    activity_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    busy_user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    nickname: Mapped[str] = mapped_column(String(64), default="")
    avatar: Mapped[str] = mapped_column(String(512), default="")
    kind: Mapped[int] = mapped_column(SmallInteger)  # MemberKind
    leader: Mapped[bool] = mapped_column(Boolean, default=False)
    sku_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    unit_price: Mapped[int] = mapped_column(BigInteger, default=0)  # fen, as priced for the order
    order_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, unique=True)
    status: Mapped[int] = mapped_column(SmallInteger)  # MemberStatus
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("activity_id", "busy_user_id"), Index(None, "status", "hold_expires_at"),
                      Index(None, "user_id", "activity_id"))


mutex = mutex_table(Base.metadata, "groupbuy")  # row "activity": activity writes take turns (conflict checks)
outbox = outbox_table(Base.metadata, "groupbuy")
inbox = inbox_table(Base.metadata, "groupbuy")
