"""activity owner: business_id (null: the platform's, else one merchant's) on discounts and spend-and-save

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 05:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('pricing_discount_activity', 'pricing_reward_activity')


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column('business_id', sa.BigInteger(), nullable=True))
        op.create_index(f'ix_{table}_business_id', table, ['business_id'], unique=False)


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f'ix_{table}_business_id', table_name=table)
        op.drop_column(table, 'business_id')
