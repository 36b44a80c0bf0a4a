from typing import ClassVar

from pydantic import Field, SecretStr

from shared.settings import ServiceSettings


class PricingSettings(ServiceSettings):
    service_name: ClassVar[str] = "pricing"

    coupon_url: str = "http://127.0.0.1:8001"  # the coupon service's /internal API
    seckill_url: str = "http://127.0.0.1:8002"  # the seckill service's /internal API
    groupbuy_url: str = "http://127.0.0.1:8003"  # the group-buy service's /internal API
    bargain_url: str = "http://127.0.0.1:8004"  # the bargain service's /internal API
    points_url: str = "http://127.0.0.1:8005"  # the points-mall service's /internal API
    # presented to other services; outside dev/test the app refuses to start without it
    service_token: SecretStr = SecretStr("")
    dependency_timeout_seconds: float = Field(default=3.0, gt=0)

    points_enabled: bool = True  # buyers may pay part of an order with points
    points_fen_per_point: int = Field(default=1, ge=1)  # what one point takes off
    points_max_per_order: int = Field(default=0, ge=0)  # 0 = no cap
    points_grant_per_yuan: int = Field(default=0, ge=0)  # points granted per yuan paid; 0 = none

    checkout_stale_seconds: int = Field(default=30, ge=1)  # a checkout stuck this long may be retried
