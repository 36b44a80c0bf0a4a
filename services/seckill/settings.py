from typing import ClassVar

from shared.settings import ServiceSettings


class SeckillSettings(ServiceSettings):
    service_name: ClassVar[str] = "seckill"

    seckill_hold_seconds: int = 300  # a reservation not paid within this goes back (flash orders are paid fast)
    seckill_cache_seconds: float = 1.0  # activities and slots kept in memory for the crowd path
    seckill_sold_out_seconds: float = 1.0  # a SKU seen sold out is refused locally for this long
    seckill_redis_filter: bool = True  # off: every attempt goes to MySQL (the benchmark's database-only variant)
    seckill_job_interval_seconds: float = 5.0  # expiry of unpaid reservations
    seckill_reconcile_interval_seconds: float = 60.0  # Redis re-derived from MySQL, drift reported
