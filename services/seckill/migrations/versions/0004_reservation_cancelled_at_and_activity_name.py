"""reservation cancelled_at and activity_name: an order.cancelled is recorded whatever the
reservation's state (a payment handled after it is never taken again), and the activity's name is
kept for a checkout retried after the activity was deleted

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 01:38:18.425902
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('seckill_reservation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('activity_name', sa.String(length=50), server_default='', nullable=False))
        batch_op.add_column(sa.Column('cancelled_at', shared.db.UTCDateTime(), nullable=True))
    # earlier reservations: the name of their activity if it still exists (else a generic name is shown)
    op.execute("UPDATE seckill_reservation SET activity_name = COALESCE((SELECT a.name FROM seckill_activity a "
               "WHERE a.id = seckill_reservation.activity_id), '')")


def downgrade() -> None:
    with op.batch_alter_table('seckill_reservation', schema=None) as batch_op:
        batch_op.drop_column('cancelled_at')
        batch_op.drop_column('activity_name')
