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
    # Released ones that had been paid first (an order closed after payment) cannot be told from
    # those released unpaid: the status says released either way, and seckill_inbox keeps, for an
    # event it processed, its random id and type but not its data (the payload is kept only for
    # parked events), so which order an order.paid was for is not known. They stay unmarked: a
    # further order.paid for such an order (not the same event again, which the inbox skips) would
    # be taken for a late payment and ask, with promo.seckill.payment-refused, for a refund the
    # order service already makes (it must treat a refund it made as done).


def downgrade() -> None:
    with op.batch_alter_table('seckill_reservation', schema=None) as batch_op:
        batch_op.drop_column('paid_at')
