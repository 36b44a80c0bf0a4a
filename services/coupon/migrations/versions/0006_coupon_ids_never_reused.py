"""coupon ids never reused

Templates, coupons and codes are named by id outside their table (events, issue keys, pricing's
spend-and-save levels), so an id must never come back. MySQL/MariaDB's AUTO_INCREMENT never
reuses one: nothing to do there. SQLite reuses the highest id after a delete unless the table is
AUTOINCREMENT, which only a rebuild can add (Alembic batch mode copies the rows). SQLite's sequence
would then start after the highest id copied, giving again an id deleted before the upgrade
(a deleted template its coupons still name, a deleted coupon its code names): each rebuilt table's
sequence is set to the highest id anything still refers to. The models carry
`sqlite_autoincrement=True`, which autogenerate does not compare, hence this hand-written step.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 01:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('coupon_template', 'coupon', 'coupon_code')
# Every id of a table that was ever handed out and is still named somewhere (its own rows, the
# other tables' references, the issue key "code:<id>" of a coupon redeemed from a code).
REFERENCES = {
    'coupon_template': ('SELECT max(id) FROM coupon_template', 'SELECT max(template_id) FROM coupon',
                        'SELECT max(template_id) FROM coupon_code'),
    'coupon': ('SELECT max(id) FROM coupon', 'SELECT max(coupon_id) FROM coupon_code'),
    'coupon_code': ('SELECT max(id) FROM coupon_code',
                    "SELECT max(CAST(substr(issue_key, 6) AS INTEGER)) FROM coupon WHERE issue_key LIKE 'code:%'"),
}


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate='always', table_kwargs={'sqlite_autoincrement': autoincrement}):
            pass


def _start_sequences_after_every_reference() -> None:
    bind = op.get_bind()
    for table, queries in REFERENCES.items():
        highest = max((bind.scalar(sa.text(query)) or 0 for query in queries), default=0)
        bind.execute(sa.text('DELETE FROM sqlite_sequence WHERE name = :name'), {'name': table})
        if highest > 0:
            bind.execute(sa.text('INSERT INTO sqlite_sequence (name, seq) VALUES (:name, :seq)'),
                         {'name': table, 'seq': highest})


def upgrade() -> None:
    _rebuild(True)
    if op.get_bind().dialect.name == 'sqlite':
        _start_sequences_after_every_reference()


def downgrade() -> None:
    _rebuild(False)
