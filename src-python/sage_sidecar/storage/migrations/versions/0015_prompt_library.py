"""the prompt library: saved prompts with {{variables}}, and a few shipped ones

The shipped prompts are inserted here, once, when the table is created: a user who deletes or
edits one never sees it come back (a seed at every start would resurrect it).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""

from datetime import UTC, datetime
from uuid import uuid4

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# Frozen copy: a migration must not change when the app's code does.
SHIPPED = [
    (
        "Summarize",
        "A short summary with the key points",
        "Summarize the following in {{length}} for {{audience}}. Keep names, numbers and "
        "dates exact; end with the open questions, if any.\n\n{{text}}",
    ),
    (
        "Translate",
        "Translate text, keeping its tone and formatting",
        "Translate the following into {{language}}. Keep the tone, the formatting and any code "
        "or names unchanged; answer with the translation only.\n\n{{text}}",
    ),
    (
        "Explain code",
        "Walk through what a piece of code does",
        "Explain what this {{language}} code does, step by step, then point out any bugs, edge "
        "cases or simpler ways to write it.\n\n```\n{{code}}\n```",
    ),
    (
        "Improve writing",
        "Clearer, shorter, same meaning",
        "Rewrite the following to be clearer and more concise without changing its meaning. "
        "Then list the main changes you made.\n\n{{text}}",
    ),
    (
        "Reply to an email",
        "Draft a reply in a chosen tone",
        "Draft a {{tone}} reply to this email. It should {{goal}}. Keep it brief.\n\n{{email}}",
    ),
]


def upgrade() -> None:
    prompts = op.create_table(
        "prompts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        prompts,
        [
            {
                "id": uuid4().hex,
                "title": title,
                "description": description,
                "content": content,
                "created_at": now,
                "updated_at": now,
            }  # fmt: skip
            for title, description, content in SHIPPED
        ],
    )


def downgrade() -> None:
    op.drop_table("prompts")
