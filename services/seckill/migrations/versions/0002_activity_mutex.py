"""activity mutex: activity writes take turns, so concurrent creates see each other's conflicts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 11:51:11.263891
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    mutex = op.create_table('seckill_mutex',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('version', sa.BigInteger(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_seckill_mutex'))
    )
    op.bulk_insert(mutex, [{"name": "activity"}])


def downgrade() -> None:
    op.drop_table('seckill_mutex')
