from typing import ClassVar

from shared.settings import ServiceSettings


class CouponSettings(ServiceSettings):
    service_name: ClassVar[str] = "coupon"

    coupon_hold_seconds: int = 1800  # an unpaid order's coupon goes back after this
    coupon_job_interval_seconds: float = 30.0  # expiry job: due holds released, past coupons expired
    coupon_redis_front: bool = True  # self-take stock and limits checked in Redis first; off: the database alone
    coupon_cache_seconds: float = 1.0  # a template's take terms kept in memory for the take path
    coupon_sold_out_seconds: float = 1.0  # a template seen sold out is refused locally for this long
    coupon_reconcile_interval_seconds: float = 60.0  # Redis's stock of self-take templates checked against the database
