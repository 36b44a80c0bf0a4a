from typing import ClassVar

from shared.settings import ServiceSettings


class PointsSettings(ServiceSettings):
    service_name: ClassVar[str] = "points"

    points_hold_seconds: int = 900  # a held order not paid within this gives its stock and count back
    points_job_interval_seconds: float = 10.0  # unpaid holds past their time
