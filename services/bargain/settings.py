from typing import ClassVar

from shared.settings import ServiceSettings


class BargainSettings(ServiceSettings):
    service_name: ClassVar[str] = "bargain"

    bargain_record_lifetime_seconds: int = 86_400  # a record not successful within this fails
    bargain_hold_seconds: int = 900  # a held order not paid within this gives its unit and record back
    bargain_job_interval_seconds: float = 10.0  # records past their time, unpaid holds
