"""persons (child, guardians' address) apart from the cases; closed_at for the retention period

Revision ID: 0004
Revises: 0003

SQLite: the two instance columns are added with plain ALTER TABLE (not batch mode). Batch mode
copies and drops `instances`, and with foreign keys on, dropping it would cascade into the index
tables, documents and comments of every case.
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('persons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind_vorname', sa.String(length=100), nullable=False),
    sa.Column('kind_nachname', sa.String(length=100), nullable=False),
    sa.Column('kind_geburtsdatum', sa.Date(), nullable=False),
    sa.Column('erziehungsberechtigte', sa.String(length=200), nullable=True),
    sa.Column('strasse', sa.String(length=200), nullable=True),
    sa.Column('plz', sa.String(length=5), nullable=True),
    sa.Column('ort', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE instances ADD COLUMN person_id INTEGER REFERENCES persons (id)')
        op.execute('ALTER TABLE instances ADD COLUMN closed_at DATETIME')
    else:
        op.add_column('instances', sa.Column('person_id', sa.Integer(), nullable=True))
        op.add_column('instances', sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
        op.create_foreign_key('fk_instances_person_id_persons', 'instances', 'persons', ['person_id'], ['id'])
    op.create_index('ix_instances_person_id', 'instances', ['person_id'], unique=False)
    op.create_index('ix_instances_closed_at', 'instances', ['closed_at'], unique=False)
    # Cases closed before this revision: their last change is when they closed.
    op.execute("UPDATE instances SET closed_at = updated_at WHERE status = 'completed'")


def downgrade() -> None:
    op.drop_index('ix_instances_closed_at', table_name='instances')
    op.drop_index('ix_instances_person_id', table_name='instances')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE instances DROP COLUMN closed_at')
        op.execute('ALTER TABLE instances DROP COLUMN person_id')
    else:
        op.drop_constraint('fk_instances_person_id_persons', 'instances', type_='foreignkey')
        op.drop_column('instances', 'closed_at')
        op.drop_column('instances', 'person_id')
    op.drop_table('persons')
