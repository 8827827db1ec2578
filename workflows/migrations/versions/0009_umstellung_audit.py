"""audit action of a case moved to a new model version: vorgang_umgestellt

Revision ID: 0009
Revises: 0008

"Migration" means Alembic's schema changes only; moving a running case to a newer version
of its model is its Umstellung. Audit entries written before keep their meaning under the new
action name.
"""
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE audit_events SET action = 'vorgang_umgestellt' WHERE action = 'modell_migriert'")


def downgrade() -> None:
    op.execute("UPDATE audit_events SET action = 'modell_migriert' WHERE action = 'vorgang_umgestellt'")
