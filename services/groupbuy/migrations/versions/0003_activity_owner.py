"""activity owner: business_id (null: the platform's, else one merchant's) on group-buy activities

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 05:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('groupbuy_activity', sa.Column('business_id', sa.BigInteger(), nullable=True))
    op.create_index('ix_groupbuy_activity_business_id', 'groupbuy_activity', ['business_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_groupbuy_activity_business_id', table_name='groupbuy_activity')
    op.drop_column('groupbuy_activity', 'business_id')
