"""bargain cancelled orders

`bargain_cancelled_order`: orders seen cancelled, so that a hold arriving after the cancel is
refused (order.cancelled may come before the checkout's hold).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 08:15:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('bargain_cancelled_order',
    sa.Column('order_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('cancelled_at', shared.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_bargain_cancelled_order'))
    )


def downgrade() -> None:
    op.drop_table('bargain_cancelled_order')
