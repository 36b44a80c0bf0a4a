"""coupon: indexes for a business day's figures

`coupon.created_at` (issued that day) and `(status, used_at)` (used that day): the console's
dashboard asks for them (`/stats/daily`) and would otherwise scan every coupon ever issued.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 13:55:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f('ix_coupon_created_at'), 'coupon', ['created_at'], unique=False)
    op.create_index(op.f('ix_coupon_status_used_at'), 'coupon', ['status', 'used_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_coupon_status_used_at'), table_name='coupon')
    op.drop_index(op.f('ix_coupon_created_at'), table_name='coupon')
