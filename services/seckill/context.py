"""What the seckill use cases need besides a request, built once per app (main.py) and handed to
routes as a typed dependency (api/deps.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import async_sessionmaker

from services.seckill.catalog import Catalog
from services.seckill.flows.writer import ReservationWriter
from services.seckill.stock import StockFilter
from shared.clock import Clock, SystemClock


@dataclass
class Seckill:
    """The app's sessions, the Redis filter, the coalescing writer and the per-process catalog."""

    sessions: async_sessionmaker
    stock: StockFilter
    writer: ReservationWriter
    catalog: Catalog
    timezone: ZoneInfo
    hold_seconds: int
    redis_filter: bool = True  # False: the database-only variant (benchmarks)
    clock: Clock = field(default_factory=SystemClock)

    def local(self, now: datetime) -> datetime:
        return now.astimezone(self.timezone)
