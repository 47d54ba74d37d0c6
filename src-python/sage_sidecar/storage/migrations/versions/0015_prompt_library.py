"""the prompt library

Reserved in the session plan so parallel work chains cleanly; the owner fills it in (or states
why no schema change was needed).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
