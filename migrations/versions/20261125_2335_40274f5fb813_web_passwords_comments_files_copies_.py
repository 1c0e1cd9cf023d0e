"""web: passwords, comments, files, copies, signers, extension requests, circulars

Revision ID: 40274f5fb813
Revises: 38e7d1b0a4cb
Create Date: 2026-11-25 23:35:45.877324+00:00
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '40274f5fb813'
down_revision = '38e7d1b0a4cb'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('circulars',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('generated_at', sa.DateTime(), nullable=False),
    sa.Column('generated_by', sa.String(length=64), nullable=False),
    sa.Column('body_json', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_circulars_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_circulars'))
    )
    with op.batch_alter_table('circulars', schema=None) as batch_op:
        batch_op.create_index('ix_circulars_org_month', ['org_id', 'month', 'id'], unique=False)

    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by', sa.String(length=64), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], name=op.f('fk_attachments_instance_id_process_instances')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index('ix_attachments_instance', ['instance_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachments_task_id'), ['task_id'], unique=False)

    op.create_table('comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=True),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], name=op.f('fk_comments_instance_id_process_instances')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comments'))
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index('ix_comments_instance', ['instance_id', 'id'], unique=False)

    op.create_table('task_copies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=True),
    sa.Column('recipient', sa.String(length=64), nullable=False),
    sa.Column('sent_by', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], name=op.f('fk_task_copies_instance_id_process_instances')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_copies'))
    )
    with op.batch_alter_table('task_copies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_copies_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index('ix_task_copies_recipient', ['recipient', 'created_at'], unique=False)

    op.create_table('attachment_blobs',
    sa.Column('attachment_id', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachments.id'], name=op.f('fk_attachment_blobs_attachment_id_attachments')),
    sa.PrimaryKeyConstraint('attachment_id', name=op.f('pk_attachment_blobs'))
    )
    op.create_table('extension_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('requested_due', sa.DateTime(), nullable=True),
    sa.Column('working_days', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], name=op.f('fk_extension_requests_instance_id_process_instances')),
    sa.ForeignKeyConstraint(['task_id'], ['human_tasks.id'], name=op.f('fk_extension_requests_task_id_human_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extension_requests'))
    )
    with op.batch_alter_table('extension_requests', schema=None) as batch_op:
        batch_op.create_index('ix_extension_requests_state', ['state', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_extension_requests_task_id'), ['task_id'], unique=False)

    op.create_table('task_signers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('position', sa.String(length=6), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('opinion', sa.Text(), nullable=True),
    sa.Column('added_by', sa.String(length=64), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.Column('signed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['task_id'], ['human_tasks.id'], name=op.f('fk_task_signers_task_id_human_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_signers'))
    )
    with op.batch_alter_table('task_signers', schema=None) as batch_op:
        batch_op.create_index('ix_task_signers_task', ['task_id', 'position', 'seq'], unique=False)

    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('delegation', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('pending_data', sa.Text(), nullable=True))
        batch_op.create_index('ix_human_tasks_ended_by', ['ended_by', 'ended_at'], unique=False)

    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_hash', sa.String(length=200), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_column('password_hash')

    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_human_tasks_ended_by')
        batch_op.drop_column('pending_data')
        batch_op.drop_column('delegation')
        batch_op.drop_column('owner')

    with op.batch_alter_table('task_signers', schema=None) as batch_op:
        batch_op.drop_index('ix_task_signers_task')

    op.drop_table('task_signers')
    with op.batch_alter_table('extension_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_extension_requests_task_id'))
        batch_op.drop_index('ix_extension_requests_state')

    op.drop_table('extension_requests')
    op.drop_table('attachment_blobs')
    with op.batch_alter_table('task_copies', schema=None) as batch_op:
        batch_op.drop_index('ix_task_copies_recipient')
        batch_op.drop_index(batch_op.f('ix_task_copies_instance_id'))

    op.drop_table('task_copies')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_instance')

    op.drop_table('comments')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_task_id'))
        batch_op.drop_index('ix_attachments_instance')

    op.drop_table('attachments')
    with op.batch_alter_table('circulars', schema=None) as batch_op:
        batch_op.drop_index('ix_circulars_org_month')

    op.drop_table('circulars')
