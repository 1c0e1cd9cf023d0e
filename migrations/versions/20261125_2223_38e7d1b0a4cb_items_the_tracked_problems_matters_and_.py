"""items: the tracked problems, matters and petitions

Revision ID: 38e7d1b0a4cb
Revises: 65d04fd9e8c6
Create Date: 2026-11-25 22:23:52.315998+00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '38e7d1b0a4cb'
down_revision = '65d04fd9e8c6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=400), nullable=True),
    sa.Column('source', sa.String(length=40), nullable=True),
    sa.Column('category', sa.String(length=100), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('responsible_unit', sa.String(length=64), nullable=True),
    sa.Column('responsible_person', sa.String(length=64), nullable=True),
    sa.Column('lead_leader', sa.String(length=64), nullable=True),
    sa.Column('measures', sa.Text(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('light', sa.String(length=6), nullable=True),
    sa.Column('returns', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], name=op.f('fk_items_instance_id_process_instances')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_items_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_items')),
    sa.UniqueConstraint('instance_id', name=op.f('uq_items_instance_id')),
    sa.UniqueConstraint('number', name=op.f('uq_items_number'))
    )
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index('ix_items_kind_state', ['kind', 'state'], unique=False)
        batch_op.create_index('ix_items_org_state_light', ['org_id', 'state', 'light'], unique=False)
        batch_op.create_index('ix_items_unit_state', ['responsible_unit', 'state'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_unit_state')
        batch_op.drop_index('ix_items_org_state_light')
        batch_op.drop_index('ix_items_kind_state')

    op.drop_table('items')
