"""coupon owner and the discount a hold gives

`business_id` on templates (NULL: the platform's, else one merchant's) and copied onto every
coupon issued from them, so that matching a cart needs no join. `coupon.use_discount`: what the
coupon takes off the order that holds or used it, as the checkout said (the merchant's figures).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 05:05:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('coupon_template', 'coupon')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('business_id', sa.BigInteger(), nullable=True))
            batch_op.create_index(batch_op.f(f'ix_{table}_business_id'), ['business_id'], unique=False)
    with op.batch_alter_table('coupon', schema=None) as batch_op:
        batch_op.add_column(sa.Column('use_discount', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    # On SQLite dropping a column rebuilds the table: keep it AUTOINCREMENT and its sequence.
    sqlite = op.get_bind().dialect.name == 'sqlite'
    seqs = {table: op.get_bind().scalar(sa.text("SELECT seq FROM sqlite_sequence WHERE name = :name")
                                        .bindparams(name=table)) if sqlite else None for table in TABLES}
    with op.batch_alter_table('coupon', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.drop_column('use_discount')
    for table in TABLES:
        with op.batch_alter_table(table, schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_business_id'))
            batch_op.drop_column('business_id')
    for table, seq in seqs.items():
        if seq is not None:
            op.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = :name").bindparams(name=table))
            op.execute(sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:name, :seq)")
                       .bindparams(name=table, seq=seq))
