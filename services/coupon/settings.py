from typing import ClassVar

from shared.settings import ServiceSettings


class CouponSettings(ServiceSettings):
    service_name: ClassVar[str] = "coupon"
