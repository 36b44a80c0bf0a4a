from typing import ClassVar

from shared.settings import ServiceSettings


class CouponSettings(ServiceSettings):
    service_name: ClassVar[str] = "coupon"

    coupon_hold_seconds: int = 1800  # an unpaid order's coupon goes back after this
    coupon_job_interval_seconds: float = 30.0  # expiry job: due holds released, past coupons expired
