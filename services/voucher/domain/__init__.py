"""Voucher (核销) rules. Pure: plain values and the time in, a decision or a domain error out.

- `model`: the values decided on: statuses and kinds, a store's and a product's terms, an issued
  voucher's state, what a verification takes.
- `geo`: micro-degree coordinates, the bounding box of a radius search, the exact distance.
- `rules`: a product's terms, review statuses, report dates, an order's units and each voucher's
  window and code.
- `verification`: the checks of a verification, what it takes and settles, reversals, refunds,
  expiry.
- `errors`: the refusals, each with its code.

Everything is importable from here (`domain.check_verification`, `domain.NothingLeft`).
"""

from __future__ import annotations

from services.voucher.domain.errors import (
    CodeNotFound,
    CurrencyMismatch,
    KeyReused,
    LocationIncomplete,
    NotActive,
    NothingLeft,
    NotReversible,
    OutsideValidity,
    ProductInvalid,
    ProductNotFound,
    RecordNotFound,
    ReportRangeInvalid,
    ReversalWindowPassed,
    ReviewDecided,
    ReviewNotFound,
    SkuTaken,
    StoreNotAccepted,
    StoreNotFound,
    StoreUnavailable,
    VoucherBusy,
    VoucherNotFound,
    WrongWay,
)
from services.voucher.domain.geo import (
    MAX_RADIUS_M,
    MIN_RADIUS_M,
    Box,
    bounding_box,
    distance_m,
    from_e6,
    nearest,
    to_e6,
)
from services.voucher.domain.model import (
    ProductTerms,
    RecordKind,
    ReviewKind,
    ReviewOutcome,
    ReviewStatus,
    StoreAtCheck,
    StoreTerms,
    Surplus,
    Taking,
    ValidityType,
    VerifyRequest,
    VoucherKind,
    VoucherState,
    VoucherStatus,
    product_terms_from,
    product_terms_json,
    store_terms_from,
    store_terms_json,
)
from services.voucher.domain.rules import (
    CODE_ALPHABET,
    CODE_LENGTH,
    PaidLine,
    Unit,
    check_product,
    check_undecided,
    new_code,
    normalize_code,
    product_problems,
    report_range,
    status_after_decision,
    status_after_submission,
    units,
    validity_window,
)
from services.voucher.domain.verification import (
    RecordState,
    RefundVerdict,
    check_reversal,
    check_usable,
    check_verification,
    is_expiry_due,
    refund_verdict,
    settlement,
    shown,
    take,
)

__all__ = [  # noqa: RUF022 (grouped by module)
    "CodeNotFound", "CurrencyMismatch", "KeyReused", "LocationIncomplete", "NotActive", "NothingLeft",
    "NotReversible", "OutsideValidity", "ProductInvalid", "ProductNotFound", "RecordNotFound", "ReportRangeInvalid",
    "ReversalWindowPassed", "ReviewDecided", "ReviewNotFound", "SkuTaken", "StoreNotAccepted", "StoreNotFound",
    "StoreUnavailable", "VoucherBusy", "VoucherNotFound", "WrongWay",
    "MAX_RADIUS_M", "MIN_RADIUS_M", "Box", "bounding_box", "distance_m", "from_e6", "nearest", "to_e6",
    "ProductTerms", "RecordKind", "ReviewKind", "ReviewOutcome", "ReviewStatus", "StoreAtCheck", "StoreTerms",
    "Surplus", "Taking", "ValidityType", "VerifyRequest", "VoucherKind", "VoucherState", "VoucherStatus",
    "product_terms_from", "product_terms_json", "store_terms_from", "store_terms_json",
    "CODE_ALPHABET", "CODE_LENGTH", "PaidLine", "Unit", "check_product", "check_undecided", "new_code",
    "normalize_code", "product_problems", "report_range", "status_after_decision", "status_after_submission",
    "units", "validity_window",
    "RecordState", "RefundVerdict", "check_reversal", "check_usable", "check_verification", "is_expiry_due",
    "refund_verdict", "settlement", "shown", "take",
]
