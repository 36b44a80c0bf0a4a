"""Tables owned by the points service (the seed's promotion_point_* tables, under this service's
own names)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import BigId, UTCDateTime, make_metadata, mutex_table
from shared.outbox import inbox_table, outbox_table


class Base(DeclarativeBase):
    metadata = make_metadata()


class Activity(Base):
    """积分商城活动: one SPU sold for points (and cash) per SKU within a window. Its stock figures
    are the sums of its products'. Deleted activities stay (`deleted_at`), hidden from every route."""

    __tablename__ = "points_activity"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(50))
    spu_id: Mapped[int] = mapped_column(BigInteger, index=True)
    business_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)  # None: the platform's
    status: Mapped[int] = mapped_column(SmallInteger)  # CommonStatus: DISABLED = closed for good
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sort: Mapped[int] = mapped_column(Integer, default=0)
    remark: Mapped[str] = mapped_column(String(255), default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)  # "admin:1", "merchant:2001"
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    deleted_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Product(Base):
    """积分商城商品: one SKU of the activity, its points and cash price per unit, its stock and the
    per-user limit. `total_stock` is what the operator offers; `stock` what is left (held and paid
    units taken out): the conditional update `stock >= count` is the guard against overselling."""

    __tablename__ = "points_product"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    activity_id: Mapped[int] = mapped_column(BigInteger)
    sku_id: Mapped[int] = mapped_column(BigInteger)
    points: Mapped[int] = mapped_column(Integer)  # points per unit
    price: Mapped[int] = mapped_column(BigInteger)  # fen per unit besides the points; 0: points only
    stock: Mapped[int] = mapped_column(Integer)
    total_stock: Mapped[int] = mapped_column(Integer)
    limit_count: Mapped[int] = mapped_column(Integer)  # units one user may hold and buy of this SKU
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("activity_id", "sku_id"),)


class UserCount(Base):
    """What one user holds and bought of one SKU of an activity: the database's guard of the
    per-user limit (a conditional update `held + bought + count <= limit`). Made by an upsert."""

    __tablename__ = "points_user_count"

    activity_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    sku_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    held: Mapped[int] = mapped_column(Integer, default=0)
    bought: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Hold(Base):
    """A points-mall order's hold: `count` units of one SKU and the buyer's count, from checkout to
    payment or release. Kept after it ends (PAID or RELEASED, with when and why)."""

    __tablename__ = "points_hold"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    activity_id: Mapped[int] = mapped_column(BigInteger, index=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    sku_id: Mapped[int] = mapped_column(BigInteger)
    count: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(BigInteger)  # fen
    unit_points: Mapped[int] = mapped_column(Integer)
    status: Mapped[int] = mapped_column(SmallInteger)  # HoldStatus
    hold_expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index(None, "status", "hold_expires_at"), Index(None, "user_id", "activity_id"))


class CancelledOrder(Base):
    """Orders seen cancelled (order.cancelled), so that a hold for one of them coming later (the
    cancel came before the checkout's hold) is refused. What the cancel did to an order's hold is
    recorded on the hold (`end_reason`)."""

    __tablename__ = "points_cancelled_order"

    order_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    cancelled_at: Mapped[datetime] = mapped_column(UTCDateTime())


mutex = mutex_table(Base.metadata, "points")  # row "activity": activity writes take turns (conflict checks)
outbox = outbox_table(Base.metadata, "points")
inbox = inbox_table(Base.metadata, "points")
