"""Tables owned by the voucher service. Every merchant-owned row carries `business_id`; nothing
issued, sold or verified is ever deleted (stores and products are disabled, vouchers end in a
final status with who and why, a reversal is a record of its own)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import BigId, UTCDateTime, make_metadata
from shared.outbox import inbox_table, outbox_table


class Base(DeclarativeBase):
    metadata = make_metadata()


class Reviewed:
    """A store or product the platform reviews. The row holds the terms that are (or, until first
    approved, would be) live; a change waits in `voucher_review` until approved."""

    status: Mapped[int] = mapped_column(SmallInteger)  # CommonStatus: the merchant's on/off
    review_status: Mapped[int] = mapped_column(SmallInteger)  # ReviewStatus
    pending_review_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # a change waiting
    last_editor: Mapped[str] = mapped_column(String(64))  # "merchant:<staff id>" / "admin:<id>"
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Store(Reviewed, Base):
    """A merchant's store (the seed's goods group, 门店), where vouchers are verified."""

    __tablename__ = "voucher_store"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    business_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(255))
    phone: Mapped[str] = mapped_column(String(32))
    opening_hours: Mapped[str] = mapped_column(String(64))
    lat_e6: Mapped[int] = mapped_column(Integer)  # micro-degrees
    lon_e6: Mapped[int] = mapped_column(Integer)

    # The radius search reads a bounding box through (lat_e6, lon_e6); the statuses after them let
    # the index alone drop stores not approved or closed before any row is read.
    __table_args__ = (Index(None, "lat_e6", "lon_e6", "review_status", "status"), Index(None, "business_id", "id"),
                      {"sqlite_autoincrement": True})

    @property
    def lat(self) -> float:
        return self.lat_e6 / 1_000_000

    @property
    def lon(self) -> float:
        return self.lon_e6 / 1_000_000


class Product(Reviewed, Base):
    """A voucher product: the mall's SKU with voucher terms (the seed's mall_goods columns)."""

    __tablename__ = "voucher_product"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    business_id: Mapped[int] = mapped_column(BigInteger)
    spu_id: Mapped[int] = mapped_column(BigInteger, index=True)
    sku_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[int] = mapped_column(SmallInteger)
    value: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    max_using_times: Mapped[int] = mapped_column(Integer)
    cost: Mapped[int] = mapped_column(BigInteger)
    bright_desc: Mapped[str] = mapped_column(String(100))
    image_url: Mapped[str] = mapped_column(String(200))
    validity_type: Mapped[int] = mapped_column(SmallInteger)
    valid_start_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    valid_end_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    valid_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    selling_store_id: Mapped[int] = mapped_column(BigInteger)
    store_ids: Mapped[list[int]] = mapped_column(JSON)  # as approved; also rows of voucher_product_store

    __table_args__ = (Index(None, "business_id", "id"), {"sqlite_autoincrement": True})


class ProductStore(Base):
    """The stores a product's approved terms accept, for the search (stores with vouchers on sale)."""

    __tablename__ = "voucher_product_store"

    product_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    store_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False, index=True)


class Review(Base):
    """One submitted change of a store or product and the platform's decision: the review queue and
    its history (who submitted what, who decided, when, why)."""

    __tablename__ = "voucher_review"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[int] = mapped_column(SmallInteger)  # ReviewKind
    target_id: Mapped[int] = mapped_column(BigInteger)
    business_id: Mapped[int] = mapped_column(BigInteger)
    terms: Mapped[dict] = mapped_column(JSON)
    status: Mapped[int] = mapped_column(SmallInteger)  # ReviewOutcome
    submitted_by: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(255), nullable=True)

    __table_args__ = (Index(None, "status", "kind", "id"), Index(None, "kind", "target_id", "id"),
                      Index(None, "business_id", "id"), {"sqlite_autoincrement": True})


class Voucher(Base):
    """An issued voucher: one per unit bought, with the terms it was bought with."""

    __tablename__ = "voucher"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    business_id: Mapped[int] = mapped_column(BigInteger)
    product_id: Mapped[int] = mapped_column(BigInteger)
    spu_id: Mapped[int] = mapped_column(BigInteger)
    sku_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[int] = mapped_column(BigInteger)
    unit_no: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    pay_price: Mapped[int] = mapped_column(BigInteger)  # this unit's share of the line's payment
    # the terms it was bought with (a copy: later product changes never touch it)
    name: Mapped[str] = mapped_column(String(64))
    image_url: Mapped[str] = mapped_column(String(200))
    kind: Mapped[int] = mapped_column(SmallInteger)
    value: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    max_using_times: Mapped[int] = mapped_column(Integer)
    cost: Mapped[int] = mapped_column(BigInteger)
    selling_store_id: Mapped[int] = mapped_column(BigInteger)
    store_ids: Mapped[list[int]] = mapped_column(JSON)
    valid_start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # what is left, changed only by one conditional UPDATE per verification or reversal
    surplus_value: Mapped[int] = mapped_column(BigInteger)
    surplus_times: Mapped[int] = mapped_column(Integer)
    cost_settled: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[int] = mapped_column(SmallInteger)  # VoucherStatus
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # EXPIRED / REFUNDED: when, by whom ("job", "order:<id>") and why. Never deleted.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    # One voucher per unit of an order line, whatever the event's redelivery or republication.
    __table_args__ = (UniqueConstraint("order_id", "sku_id", "unit_no"), Index(None, "user_id", "status", "id"),
                      Index(None, "status", "valid_end_at"), Index(None, "business_id", "id"),
                      {"sqlite_autoincrement": True})


class Verification(Base):
    """The verification record (the seed's mall_verify_record): one row per verification, with the
    voucher's snapshot before and after; a reversal is a row of its own pointing at the original."""

    __tablename__ = "voucher_verification"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    business_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[int] = mapped_column(SmallInteger)  # RecordKind
    reverses_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, unique=True)  # reversed once
    voucher_id: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    product_id: Mapped[int] = mapped_column(BigInteger)
    spu_id: Mapped[int] = mapped_column(BigInteger)
    sku_id: Mapped[int] = mapped_column(BigInteger)
    selling_store_id: Mapped[int] = mapped_column(BigInteger)  # goods_group_id: 发售门店
    store_id: Mapped[int] = mapped_column(BigInteger)  # verify_business_id: 核销门店
    staff_user_id: Mapped[int] = mapped_column(BigInteger)  # verify_user_id: 核销人
    voucher_kind: Mapped[int] = mapped_column(SmallInteger)  # type
    currency: Mapped[str] = mapped_column(String(3))
    value: Mapped[int] = mapped_column(BigInteger)
    max_using_times: Mapped[int] = mapped_column(Integer)
    minus_value: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # asked (by value)
    actual_minus_value: Mapped[int] = mapped_column(BigInteger)  # taken (negative: given back)
    times_taken: Mapped[int] = mapped_column(Integer)
    cost: Mapped[int] = mapped_column(BigInteger)  # the merchant's settlement for this row
    surplus_value_before: Mapped[int] = mapped_column(BigInteger)
    surplus_times_before: Mapped[int] = mapped_column(Integer)
    surplus_value_after: Mapped[int] = mapped_column(BigInteger)
    surplus_times_after: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    request_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    business_date: Mapped[date] = mapped_column(Date)  # the day in the business timezone (reports)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    # A retried verification is answered from the row its key wrote (unique per merchant).
    __table_args__ = (UniqueConstraint("business_id", "idempotency_key"),
                      Index(None, "business_id", "business_date", "store_id"), Index(None, "business_date"),
                      Index(None, "voucher_id", "id"), {"sqlite_autoincrement": True})


class CancelledOrder(Base):
    """Orders seen cancelled: order.paid and order.cancelled travel on two topics; a payment handled
    after its order's cancel issues nothing, and a cancel's effects happen once."""

    __tablename__ = "voucher_cancelled_order"

    order_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    cancelled_at: Mapped[datetime] = mapped_column(UTCDateTime())


outbox = outbox_table(Base.metadata, "voucher")
inbox = inbox_table(Base.metadata, "voucher")
