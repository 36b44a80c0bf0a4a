"""The values the voucher rules read and decide on: statuses and kinds (integer enums a client
reads, each value with its meaning), a store's and a product's terms, an issued voucher's state,
and what a verification or a reversal takes. Plain data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.enums import DescribedIntEnum


class ReviewStatus(DescribedIntEnum):
    """Where a store or a voucher product stands with the platform's pre-review (主站后台审核)."""

    PENDING = 1, "never approved yet: waiting for the platform's review; not on sale, cannot verify"
    APPROVED = 2, "approved: its approved terms are live; a later change waits in a review of its own"
    REJECTED = 3, "never approved: the platform rejected its last submission (edit it and it is submitted again)"


class ReviewOutcome(DescribedIntEnum):
    """What became of one submitted change (a row of the review history)."""

    PENDING = 1, "waiting in the platform's queue"
    APPROVED = 2, "approved: its terms were applied (decided_by, decided_at)"
    REJECTED = 3, "rejected with a reason (decided_by, decided_at, reason); the live terms stay as they were"
    SUPERSEDED = 4, "replaced by a later change submitted before it was reviewed"


class ReviewKind(DescribedIntEnum):
    """What a review is about."""

    STORE = 1, "a store (门店)"
    PRODUCT = 2, "a voucher product"


class VoucherKind(DescribedIntEnum):
    """How a voucher is verified (the seed's goods `type`)."""

    BY_VALUE = 1, ("stored value: staff deduct an amount (minus_value), capped at what is left; each visit also "
                   "uses one of max_using_times")
    BY_TIMES = 2, "uses: each verification takes one use; the value left is spread evenly over the uses left"


class ValidityType(DescribedIntEnum):
    """How an issued voucher's validity is set."""

    WINDOW = 1, "a fixed window: valid_start_at up to, not including, valid_end_at"
    DAYS = 2, ("valid_days days from the payment: the day of payment (business timezone) is the first, the "
               "voucher ends at the midnight after the last")


class VoucherStatus(DescribedIntEnum):
    """Where an issued voucher stands. Vouchers are never deleted."""

    ACTIVE = 1, "can be verified within its validity while value and uses are left"
    USED_UP = 2, "nothing left: its value or its uses reached 0 (a reversal makes it active again)"
    EXPIRED = 3, "its validity ended (ended_at, ended_by); an untouched one can still be refunded"
    REFUNDED = 4, "its order was refunded before any use (final; ended_at, ended_by, end_reason)"


class RecordKind(DescribedIntEnum):
    """A row of the verification record (核销记录)."""

    VERIFICATION = 1, "a verification: value and one use taken from the voucher"
    REVERSAL = 2, "a reversal (冲正) of a verification: what it took given back (its amounts are negative)"


@dataclass(frozen=True)
class StoreTerms:
    """What the platform reviews of a store."""

    name: str
    address: str
    phone: str
    opening_hours: str
    lat_e6: int  # micro-degrees
    lon_e6: int


@dataclass(frozen=True)
class ProductTerms:
    """What the platform reviews of a voucher product; an issued voucher keeps a copy."""

    name: str
    kind: VoucherKind
    value: int  # face value, minor units of `currency`
    currency: str
    max_using_times: int
    cost: int  # what the merchant is settled for a voucher fully used
    bright_desc: str
    image_url: str
    validity_type: ValidityType
    valid_start_at: datetime | None
    valid_end_at: datetime | None
    valid_days: int | None
    selling_store_id: int
    store_ids: tuple[int, ...]


@dataclass(frozen=True)
class Surplus:
    """What a voucher has left."""

    value: int
    times: int


@dataclass(frozen=True)
class VoucherState:
    """An issued voucher as the verification rules read it (locked and read afresh)."""

    id: int
    business_id: int
    status: VoucherStatus
    kind: VoucherKind
    value: int
    currency: str
    max_using_times: int
    cost: int
    surplus: Surplus
    cost_settled: int
    valid_start_at: datetime
    valid_end_at: datetime

    @property
    def untouched(self) -> bool:
        return self.surplus == Surplus(self.value, self.max_using_times)


@dataclass(frozen=True)
class StoreAtCheck:
    """The store a verification names, as seen by the merchant verifying (None: not theirs)."""

    id: int
    approved: bool
    enabled: bool
    accepts: bool  # the voucher's own stores, or the product's approved stores now


@dataclass(frozen=True)
class VerifyRequest:
    minus_value: int | None  # by value: what the staff asks to deduct
    currency: str | None


@dataclass(frozen=True)
class Taking:
    """What one verification takes from a voucher (a reversal: the same, negated), and the voucher
    before and after."""

    requested: int | None
    value: int  # actual_minus_value
    times: int
    cost: int  # the merchant's settlement for this verification
    before: Surplus
    after: Surplus
    status_after: VoucherStatus


def store_terms_json(terms: StoreTerms) -> dict:
    """Terms as a review keeps them (JSON)."""
    return {"name": terms.name, "address": terms.address, "phone": terms.phone,
            "opening_hours": terms.opening_hours, "lat_e6": terms.lat_e6, "lon_e6": terms.lon_e6}


def store_terms_from(data: dict) -> StoreTerms:
    return StoreTerms(**data)


def product_terms_json(terms: ProductTerms) -> dict:
    def iso(at: datetime | None) -> str | None:
        return None if at is None else at.isoformat()

    return {"name": terms.name, "kind": int(terms.kind), "value": terms.value, "currency": terms.currency,
            "max_using_times": terms.max_using_times, "cost": terms.cost, "bright_desc": terms.bright_desc,
            "image_url": terms.image_url, "validity_type": int(terms.validity_type),
            "valid_start_at": iso(terms.valid_start_at), "valid_end_at": iso(terms.valid_end_at),
            "valid_days": terms.valid_days, "selling_store_id": terms.selling_store_id,
            "store_ids": list(terms.store_ids)}


def product_terms_from(data: dict) -> ProductTerms:
    def at(text: str | None) -> datetime | None:
        return None if text is None else datetime.fromisoformat(text)

    return ProductTerms(**{**data, "kind": VoucherKind(data["kind"]),
                           "validity_type": ValidityType(data["validity_type"]),
                           "valid_start_at": at(data["valid_start_at"]), "valid_end_at": at(data["valid_end_at"]),
                           "store_ids": tuple(data["store_ids"])})
