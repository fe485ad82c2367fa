"""users.progress_stamp: replaced with every change to a learner's course progress, so progress can be cached

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 02:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('progress_stamp', sa.BigInteger(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('progress_stamp')
