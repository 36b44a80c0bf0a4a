"""Tables owned by the seckill service."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, SmallInteger, String, Time, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import BigId, UTCDateTime, make_metadata, mutex_table
from shared.outbox import inbox_table, outbox_table


class Base(DeclarativeBase):
    metadata = make_metadata()


class Slot(Base):
    """秒杀时段: a daily window of business-local wall-clock time."""

    __tablename__ = "seckill_slot"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(50))
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)  # 00:00:00 = midnight
    picture_urls: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[int] = mapped_column(SmallInteger)  # CommonStatus
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Activity(Base):
    """秒杀活动: one SPU, in some slots, on a range of business dates."""

    __tablename__ = "seckill_activity"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(50))
    spu_id: Mapped[int] = mapped_column(BigInteger, index=True)
    # the owner: None = the platform's (made through the admin API), else one merchant's business
    business_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    slot_ids: Mapped[list[int]] = mapped_column(JSON)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    user_limit: Mapped[int] = mapped_column(Integer, default=0)  # per user, all orders; 0 = none
    order_limit: Mapped[int] = mapped_column(Integer, default=0)  # per order; 0 = none
    status: Mapped[int] = mapped_column(SmallInteger)  # CommonStatus: DISABLED = closed for good
    sort: Mapped[int] = mapped_column(Integer, default=0)
    remark: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Product(Base):
    """A SKU of the activity: its flash price and stock (`stock` is what is left to sell)."""

    __tablename__ = "seckill_product"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("seckill_activity.id", ondelete="CASCADE"))
    sku_id: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(BigInteger)  # fen per unit
    stock: Mapped[int] = mapped_column(Integer)
    total_stock: Mapped[int] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("activity_id", "sku_id"),)


class UserQuota(Base):
    """How many a user holds or bought in an activity (cancelled and expired ones given back):
    the database's guard of the per-user limit."""

    __tablename__ = "seckill_user_quota"

    activity_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    bought: Mapped[int] = mapped_column(Integer)


class Reservation(Base):
    """Stock held for a buyer until the order is paid (committed) or not (released/expired).
    `token` is the request's identity (the buyer's idempotency key or the order id), unique."""

    __tablename__ = "seckill_reservation"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token: Mapped[str] = mapped_column(String(100), unique=True)
    activity_id: Mapped[int] = mapped_column(BigInteger)
    sku_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    count: Mapped[int] = mapped_column(Integer)
    price: Mapped[int] = mapped_column(BigInteger)  # fen per unit, as reserved
    # the activity's name when reserved: a retried checkout names its promotion after a delete
    activity_name: Mapped[str] = mapped_column(String(50), default="", server_default="")
    # the activity's owner when reserved (None = the platform's): pricing checks a retried checkout's line by it
    business_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[int] = mapped_column(SmallInteger)  # ReservationStatus
    order_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # when order.paid was handled, or an order.cancelled said the order had been paid (set once: a
    # late payment is taken again or refused once, and never for an order closed after payment)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # when the order was cancelled (order.cancelled, whatever the reservation's state then)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index(None, "status", "expires_at"), Index(None, "activity_id", "user_id"))


mutex = mutex_table(Base.metadata, "seckill")  # row "activity": activity writes take turns (conflict checks)
outbox = outbox_table(Base.metadata, "seckill")
inbox = inbox_table(Base.metadata, "seckill")
