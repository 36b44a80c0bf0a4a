"""Tables owned by the bargain service (the seed's promotion_bargain_* tables, under this
service's own names)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import BigId, UTCDateTime, make_metadata, mutex_table
from shared.outbox import inbox_table, outbox_table


class Base(DeclarativeBase):
    metadata = make_metadata()


class Activity(Base):
    """砍价活动: one SKU, its starting and floor prices, stock, and the helps' rules."""

    __tablename__ = "bargain_activity"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(50))
    spu_id: Mapped[int] = mapped_column(BigInteger, index=True)
    sku_id: Mapped[int] = mapped_column(BigInteger)
    business_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)  # None: the platform's
    status: Mapped[int] = mapped_column(SmallInteger)  # CommonStatus: DISABLED = closed for good
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_price: Mapped[int] = mapped_column(BigInteger)  # fen: bargainFirstPrice
    floor_price: Mapped[int] = mapped_column(BigInteger)  # fen: bargainMinPrice
    stock: Mapped[int] = mapped_column(Integer)  # units left (held and paid orders took theirs)
    total_stock: Mapped[int] = mapped_column(Integer)
    help_max_count: Mapped[int] = mapped_column(Integer)  # helpers needed
    bargain_count: Mapped[int] = mapped_column(Integer)  # helps one user may give in the activity
    total_limit_count: Mapped[int] = mapped_column(Integer)  # successful records per user
    random_min_price: Mapped[int] = mapped_column(BigInteger)  # fen per help
    random_max_price: Mapped[int] = mapped_column(BigInteger)
    sort: Mapped[int] = mapped_column(Integer, default=0)
    remark: Mapped[str] = mapped_column(String(255), default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)  # "admin:1", "merchant:2001"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Record(Base):
    """A buyer's bargain (砍价记录), with the cut plan copied from its activity when it started.
    `busy_user_id` is the user while the record is in progress and NULL otherwise: its unique key
    with the activity is the database's guard of "one record in progress per user and activity".
    `order_id` is the order holding (or that bought) it, NULL when none does."""

    __tablename__ = "bargain_record"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    activity_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    busy_user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    nickname: Mapped[str] = mapped_column(String(64), default="")
    avatar: Mapped[str] = mapped_column(String(512), default="")
    spu_id: Mapped[int] = mapped_column(BigInteger)
    sku_id: Mapped[int] = mapped_column(BigInteger)
    first_price: Mapped[int] = mapped_column(BigInteger)
    floor_price: Mapped[int] = mapped_column(BigInteger)
    helps_needed: Mapped[int] = mapped_column(Integer)
    random_min: Mapped[int] = mapped_column(BigInteger)
    random_max: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(BigInteger)  # first_price - the sum of the helps' cuts
    help_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[int] = mapped_column(SmallInteger)  # RecordStatus
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    order_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("activity_id", "busy_user_id"), Index(None, "status", "expires_at"),
                      Index(None, "user_id", "activity_id"))


class Help(Base):
    """A friend's help (砍一刀) on a record: one per helper and record."""

    __tablename__ = "bargain_help"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    activity_id: Mapped[int] = mapped_column(BigInteger)
    record_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    nickname: Mapped[str] = mapped_column(String(64), default="")
    avatar: Mapped[str] = mapped_column(String(512), default="")
    cut: Mapped[int] = mapped_column(BigInteger)  # fen
    price_after: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("record_id", "user_id"), Index(None, "activity_id", "user_id"))


class Helper(Base):
    """One row per helper and activity, locked while a help of theirs is checked and written: a
    helper's helps on different records queue on it, so `bargain_count` holds under concurrency."""

    __tablename__ = "bargain_helper"

    activity_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Order(Base):
    """A bargain order's hold: the record and one unit of stock, from checkout to payment or
    release. Kept after it ends (PAID or RELEASED, with when and why)."""

    __tablename__ = "bargain_order"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    record_id: Mapped[int] = mapped_column(BigInteger, index=True)
    activity_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    sku_id: Mapped[int] = mapped_column(BigInteger)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[int] = mapped_column(SmallInteger)  # OrderStatus
    hold_expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index(None, "status", "hold_expires_at"),)


class CancelledOrder(Base):
    """Orders seen cancelled (order.cancelled), so that a hold for one of them coming later (the
    cancel came before the checkout's hold) is refused. What the cancel did to an order's hold is
    recorded on the hold (`end_reason`)."""

    __tablename__ = "bargain_cancelled_order"

    order_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    cancelled_at: Mapped[datetime] = mapped_column(UTCDateTime())


mutex = mutex_table(Base.metadata, "bargain")  # row "activity": activity writes take turns (conflict checks)
outbox = outbox_table(Base.metadata, "bargain")
inbox = inbox_table(Base.metadata, "bargain")
