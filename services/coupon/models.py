"""Tables owned by the coupon service."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer, SmallInteger, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import BigId, UTCDateTime, make_metadata
from shared.outbox import inbox_table, outbox_table


class Base(DeclarativeBase):
    metadata = make_metadata()


class TermsColumns:
    """What a coupon does; a template defines it and every issued coupon keeps a copy."""

    use_price: Mapped[int] = mapped_column(BigInteger)
    product_scope: Mapped[int] = mapped_column(SmallInteger)
    product_scope_values: Mapped[list[int]] = mapped_column(JSON)
    discount_type: Mapped[int] = mapped_column(SmallInteger)
    discount_price: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    discount_percent: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    discount_limit_price: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class CouponTemplate(TermsColumns, Base):
    __tablename__ = "coupon_template"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(255), default="")
    # The owner: NULL = the platform's, else one merchant's (its coupons apply to its own goods only).
    business_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    status: Mapped[int] = mapped_column(SmallInteger)
    take_type: Mapped[int] = mapped_column(SmallInteger)
    total_count: Mapped[int] = mapped_column(Integer)  # -1 unlimited
    take_limit_count: Mapped[int] = mapped_column(Integer)  # per user, -1 unlimited
    validity_type: Mapped[int] = mapped_column(SmallInteger)
    valid_start: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    valid_end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    fixed_start_term: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fixed_end_term: Mapped[int | None] = mapped_column(Integer, nullable=True)
    take_count: Mapped[int] = mapped_column(Integer, default=0)
    use_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    # Coupons, codes and spend-and-save levels name templates by id: never reused, on SQLite too.
    __table_args__ = (Index(None, "take_type", "status"), Index(None, "created_at"), {"sqlite_autoincrement": True})


class Coupon(TermsColumns, Base):
    __tablename__ = "coupon"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    template_id: Mapped[int] = mapped_column(BigInteger)  # no FK: coupons are snapshots and outlive templates
    user_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(64))
    business_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)  # the template's owner
    take_type: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[int] = mapped_column(SmallInteger)
    valid_start: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_end: Mapped[datetime] = mapped_column(UTCDateTime())
    # HELD: use_order_id and hold_expires_at set, used_at NULL; USED (paid): used_at set, hold_expires_at NULL.
    use_order_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    # What the coupon takes off its order, fen, as the checkout that held it said (NULL: not said).
    use_discount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # System issues are keyed ("register:<user>:<template>", "order:<order>:<template>:<n>") so
    # that each happens once, whatever the event redelivery; user takes have no key.
    issue_key: Mapped[str | None] = mapped_column(String(80), nullable=True, unique=True)
    source_order_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)  # reward grants
    # REVOKED / RECALLED: when, by whom (an admin's subject, "order:<id>") and why. Never deleted.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # The order whose hold ended unpaid (its time ran out, or the coupon was revoked while held):
    # if that order is paid later, the payment takes the coupon again or asks for a refund
    # (lifecycle.settle_late_payment), once; cleared when settled or when the order gives it up.
    released_order_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    # Ids go out in events and answers: never reused, on SQLite too.
    # created_at, (status, used_at): a business day's coupons issued and used (the console's dashboard)
    __table_args__ = (Index(None, "user_id", "status", "valid_end"), Index(None, "template_id", "user_id"),
                      Index(None, "status", "valid_end"), Index(None, "created_at"), Index(None, "status", "used_at"),
                      {"sqlite_autoincrement": True})


class CouponCode(Base):
    """A one-time code that redeems into a coupon of its template."""

    __tablename__ = "coupon_code"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    template_id: Mapped[int] = mapped_column(BigInteger, index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    redeemed_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    coupon_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = ({"sqlite_autoincrement": True},)  # issue keys name codes by id ("code:<id>")


class CancelledOrder(Base):
    """Orders seen cancelled (order.cancelled). order.paid and order.cancelled travel on two
    topics, in no guaranteed order: a payment or a hold that comes after the cancel takes nothing."""

    __tablename__ = "coupon_cancelled_order"

    order_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    cancelled_at: Mapped[datetime] = mapped_column(UTCDateTime())


outbox = outbox_table(Base.metadata, "coupon")
inbox = inbox_table(Base.metadata, "coupon")
