"""coupon ids never reused

Templates, coupons and codes are named by id outside their table (events, issue keys, pricing's
spend-and-save levels), so an id must never come back. MySQL/MariaDB's AUTO_INCREMENT never
reuses one: nothing to do there. SQLite reuses the highest id after a delete unless the table is
AUTOINCREMENT, which only a rebuild can add (Alembic batch mode copies the rows, and SQLite's
sequence starts after the highest id copied). The models carry `sqlite_autoincrement=True`, which
autogenerate does not compare, hence this hand-written step.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 01:10:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('coupon_template', 'coupon', 'coupon_code')


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate='always', table_kwargs={'sqlite_autoincrement': autoincrement}):
            pass


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
