"""failed cases: attempts in a row and the time of the next timer retry (backoff)

Revision ID: 0005
Revises: 0004

Until now a failed case lost its timer rows; from here on they stay and the worker tries
them again at `retry_at`. Cases that failed before this revision have no timer rows (and an
empty index digest): a process owner's retry loads them and rewrites all their index rows.
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':      # plain ALTER TABLE, see 0004
        op.execute("ALTER TABLE instances ADD COLUMN failed_attempts INTEGER NOT NULL DEFAULT '0'")
        op.execute('ALTER TABLE instances ADD COLUMN retry_at DATETIME')
    else:
        op.add_column('instances', sa.Column('failed_attempts', sa.Integer(), nullable=False, server_default='0'))
        op.add_column('instances', sa.Column('retry_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE instances DROP COLUMN retry_at')
        op.execute('ALTER TABLE instances DROP COLUMN failed_attempts')
    else:
        op.drop_column('instances', 'retry_at')
        op.drop_column('instances', 'failed_attempts')
