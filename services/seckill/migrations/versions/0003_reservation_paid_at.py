"""reservation paid_at: when order.paid was handled, so a payment after the reservation gave its
stock back is taken again or refused once

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 01:07:03.233008
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
    with op.batch_alter_table('seckill_reservation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paid_at', shared.db.UTCDateTime(), nullable=True))
    # reservations paid before: their payment was handled (a redelivery is not a late payment)
    op.execute("UPDATE seckill_reservation SET paid_at = updated_at WHERE status = 20")


def downgrade() -> None:
    with op.batch_alter_table('seckill_reservation', schema=None) as batch_op:
        batch_op.drop_column('paid_at')
