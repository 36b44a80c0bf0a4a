from typing import ClassVar

from pydantic import Field, SecretStr

from shared.settings import ServiceSettings


class CartSettings(ServiceSettings):
    service_name: ClassVar[str] = "cart"

    pricing_url: str = "http://127.0.0.1:8006"  # the pricing service: the page's one quote
    # presented to pricing's /internal quote (member carts); outside dev/test the app refuses to start without it
    service_token: SecretStr = SecretStr("")
    dependency_timeout_seconds: float = Field(default=3.0, gt=0)  # then the page shows plain prices
    cart_device_ttl_days: int = Field(default=30, ge=1)  # a device cart unchanged this long is removed
    cart_job_interval_seconds: float = Field(default=3600.0, gt=0)  # how often old device carts are looked for
