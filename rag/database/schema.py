"""The tables of the SQL database, as SQLAlchemy Core objects. Migrations (migrations/versions/)
create and change them; this file says what the newest migration leaves, for the code that queries."""
from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

conversations = sa.Table(
    "conversations", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("collection", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
    # rises with every write: "most recently used" without clock ties
    sa.Column("touched", sa.BigInteger, nullable=False),
    sa.Index("conversations_by_owner", "owner", "touched"),
)

turns = sa.Table(
    "turns", metadata,
    sa.Column("conversation_id", sa.String(32), sa.ForeignKey("conversations.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),  # the Answer as JSON: everything that was shown
    sa.Column("created_at", sa.Text, nullable=False),
)

# The exact text each document's offsets index into, by the sha256 of the file's bytes.
texts = sa.Table(
    "texts", metadata,
    sa.Column("collection", sa.String(63), primary_key=True),
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
)

# Files uploaded from the page or the API, kept so that any worker can re-ingest or serve them.
originals = sa.Table(
    "originals", metadata,
    sa.Column("collection", sa.String(63), primary_key=True),
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("stored_at", sa.Text, nullable=False),
)

# Which data directories' files (from before the database) were imported, so each is imported once.
imports = sa.Table(
    "imports", metadata,
    sa.Column("home", sa.Text, primary_key=True),
    sa.Column("imported_at", sa.Text, nullable=False),
)

# Named values every worker must agree on, made once by whichever asks first.
shared_values = sa.Table(
    "shared_values", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
