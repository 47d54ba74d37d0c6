"""per-agent capabilities, standing approvals as rows (tied to what was approved), the audit log

Built-in tools' "always" approvals move from agents.approved_tools to tool_approvals (granted
now: when they were given was not kept). MCP tools' approvals are dropped: they were tied to the
server's name only, and must be asked again once, then stay tied to the server's identity.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

import json
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

MCP_TOOL_PREFIX = "mcp__"


def upgrade() -> None:
    op.add_column(
        "agents", sa.Column("capabilities", sa.JSON(), nullable=False, server_default="{}")
    )
    op.create_table(
        "tool_approvals",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "agent_id",
            sa.String(32),
            sa.ForeignKey("agents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("tool", sa.String(200), nullable=False),
        sa.Column("scope", sa.String(300), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("agent_id", "tool", "scope"),
    )
    op.create_index("ix_tool_approvals_agent_id", "tool_approvals", ["agent_id"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("agent_id", sa.String(32), nullable=True),
        sa.Column("agent_name", sa.String(200), nullable=False),
        sa.Column("conversation_id", sa.String(32), nullable=True),
        sa.Column("message_id", sa.String(32), nullable=True),
        sa.Column("call_id", sa.String(200), nullable=False),
        sa.Column("tool", sa.String(200), nullable=False),
        sa.Column("arguments", sa.Text(), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_agent_id", "audit_events", ["agent_id"])
    op.create_index("ix_audit_events_tool", "audit_events", ["tool"])
    op.create_index("ix_audit_events_decision", "audit_events", ["decision"])

    bind = op.get_bind()
    now = datetime.now(UTC)
    approvals = sa.table(
        "tool_approvals",
        sa.column("id", sa.String),
        sa.column("agent_id", sa.String),
        sa.column("tool", sa.String),
        sa.column("scope", sa.String),
        sa.column("granted_at", sa.DateTime(timezone=True)),
    )
    rows = []
    for agent_id, raw in bind.execute(sa.text("SELECT id, approved_tools FROM agents")):
        tools = json.loads(raw) if isinstance(raw, str) else raw or []
        for tool in dict.fromkeys(t for t in tools if isinstance(t, str)):
            if not tool.startswith(MCP_TOOL_PREFIX):
                rows.append({"id": uuid.uuid4().hex, "agent_id": agent_id, "tool": tool,
                             "scope": "builtin", "granted_at": now})  # fmt: skip
    if rows:
        op.bulk_insert(approvals, rows)
    bind.execute(sa.text("UPDATE agents SET approved_tools = '[]'"))


def downgrade() -> None:
    op.drop_table("audit_events")
    op.drop_table("tool_approvals")
    op.drop_column("agents", "capabilities")
