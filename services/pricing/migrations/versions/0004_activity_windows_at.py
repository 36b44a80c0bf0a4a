"""activity windows named like every other date-time: start_at / end_at (were start_time / end_time)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 03:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('pricing_discount_activity', 'pricing_reward_activity')


def upgrade() -> None:
    _rename({'start_time': 'start_at', 'end_time': 'end_at'})


def downgrade() -> None:
    _rename({'start_at': 'start_time', 'end_at': 'end_time'})


def _rename(names: dict[str, str]) -> None:
    """Columns renamed in place (SQLite and MySQL both rename a column natively); the index on
    (status, end) is named after its column, so it is made again under its new name."""
    stored = mysql.DATETIME(fsp=6) if op.get_context().dialect.name == 'mysql' else sa.DateTime()
    old_end, new_end = next((old, new) for old, new in names.items() if old.startswith('end'))
    for table in TABLES:
        op.drop_index(f'ix_{table}_status_{old_end}', table_name=table)
        for old, new in names.items():
            op.alter_column(table, old, new_column_name=new, existing_type=stored, existing_nullable=False)
        op.create_index(f'ix_{table}_status_{new_end}', table, ['status', new_end], unique=False)
