from typing import ClassVar

from shared.settings import ServiceSettings


class VoucherSettings(ServiceSettings):
    service_name: ClassVar[str] = "voucher"

    voucher_reversal_minutes: int = 30  # a verification may be reversed (冲正) by its merchant within this
    voucher_job_interval_seconds: float = 60.0  # expiry job: active vouchers past their validity expire
