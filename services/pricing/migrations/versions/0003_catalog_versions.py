"""catalog versions: quotes keep promotions in memory per kind version (catalog.py), so the
per-activity version and the scope rows that quotes used to query are gone

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 08:22:30.529104
"""
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('pricing_reward_scope', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pricing_reward_scope_kind_value'))
    op.drop_table('pricing_reward_scope')
    with op.batch_alter_table('pricing_mutex', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.BigInteger(), server_default='0', nullable=False))
    with op.batch_alter_table('pricing_reward_activity', schema=None) as batch_op:
        batch_op.drop_column('version')


def downgrade() -> None:
    with op.batch_alter_table('pricing_reward_activity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    with op.batch_alter_table('pricing_mutex', schema=None) as batch_op:
        batch_op.drop_column('version')
    scope = op.create_table('pricing_reward_scope',
    sa.Column('activity_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.SmallInteger(), nullable=False),
    sa.Column('value', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['pricing_reward_activity.id'], name=op.f('fk_pricing_reward_scope_activity_id_pricing_reward_activity'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('activity_id', 'kind', 'value', name=op.f('pk_pricing_reward_scope'))
    )
    with op.batch_alter_table('pricing_reward_scope', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pricing_reward_scope_kind_value'), ['kind', 'value'], unique=False)
    rows = []  # the scope rows 0002 kept in step with each activity (value 0 for all products)
    for activity_id, kind, values in op.get_bind().execute(sa.text(
            "SELECT id, product_scope, product_scope_values FROM pricing_reward_activity")):
        values = json.loads(values) if isinstance(values, str) else values
        rows += [{"activity_id": activity_id, "kind": kind, "value": v} for v in (values if kind != 1 else [0])]
    if rows:
        op.bulk_insert(scope, rows)
