"""activity owner: business_id (null: the platform's, else one merchant's) on flash activities, and
on reservations the owner of their activity when reserved (a checkout retried after the activity
was deleted still knows whose flash price it holds)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 05:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # every earlier activity and reservation was the platform's: null is right for them all
    op.add_column('seckill_activity', sa.Column('business_id', sa.BigInteger(), nullable=True))
    op.create_index('ix_seckill_activity_business_id', 'seckill_activity', ['business_id'], unique=False)
    op.add_column('seckill_reservation', sa.Column('business_id', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('seckill_reservation', schema=None) as batch_op:
        batch_op.drop_column('business_id')
    with op.batch_alter_table('seckill_activity', schema=None) as batch_op:
        batch_op.drop_index('ix_seckill_activity_business_id')
        batch_op.drop_column('business_id')
