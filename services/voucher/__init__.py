"""Voucher service (核销): multi-use stored-value vouchers, stores near me, staff verification."""
