"""scheduled tasks and their runs

Reserved in the session plan so parallel work chains cleanly; the owner fills it in (or states
why no schema change was needed).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
