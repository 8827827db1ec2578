"""rename instances.index_digest to index_fingerprint

Revision ID: 0008
Revises: 0007

"digest" now means only the daily mail (Tagesübersicht); the hash per index table a case row
keeps, to rewrite only the index tables that changed, is its index fingerprint.
"""
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute('ALTER TABLE instances RENAME COLUMN index_digest TO index_fingerprint')


def downgrade() -> None:
    op.execute('ALTER TABLE instances RENAME COLUMN index_fingerprint TO index_digest')
