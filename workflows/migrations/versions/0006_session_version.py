"""users: session version, so the server can end every session of a user

Revision ID: 0006
Revises: 0005

The web session lives in a signed cookie; without server-side state a copy of it stays valid
after logout. The session now carries the user's `session_version`; logout, a new password
and deactivation raise it, and every older cookie (every device) stops working. Sessions
created before this revision carry no version and end at the next request.
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':      # plain ALTER TABLE, see 0004
        op.execute("ALTER TABLE users ADD COLUMN session_version INTEGER NOT NULL DEFAULT '0'")
    else:
        op.add_column('users', sa.Column('session_version', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE users DROP COLUMN session_version')
    else:
        op.drop_column('users', 'session_version')
