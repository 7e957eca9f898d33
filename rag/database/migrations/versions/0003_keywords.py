"""The keyword index in PostgreSQL (rag/retrieval/keywords_pg.py): chunks' tokens as a tsvector with a
GIN index, each term's document frequency, each collection's statistics. Nothing on SQLite, whose
keyword index is FTS5 in a file of its own (rag/retrieval/keywords.py).

A `PostgresKeywordIndex` opened on the database before the assistant ever did (a script, a bulk
load) has made these tables itself, with the same schema (its `KEYWORD_TABLES`): each table is then
kept as it is, rows and all, and only the missing ones are created.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    present = set(sa.inspect(bind).get_table_names())
    if "keyword_chunks" not in present:
        _create_chunks()
    if "keyword_terms" not in present:
        op.create_table(
            "keyword_terms",
            sa.Column("collection", sa.Text, primary_key=True),
            sa.Column("term", sa.Text, primary_key=True),
            sa.Column("df", sa.Integer, nullable=False),
        )
    if "keyword_stats" not in present:
        op.create_table(
            "keyword_stats",
            sa.Column("collection", sa.Text, primary_key=True),
            sa.Column("chunks", sa.BigInteger, nullable=False),
            sa.Column("tokens", sa.BigInteger, nullable=False),
            sa.Column("schema_version", sa.Integer, nullable=False),
            sa.Column("tokenizer", sa.Integer, nullable=False),
        )


def _create_chunks() -> None:
    op.create_table(
        "keyword_chunks",
        sa.Column("collection", sa.Text, primary_key=True),
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("language", sa.Text, nullable=False),
        sa.Column("length", sa.Integer, nullable=False),
        sa.Column("tokens", pg.TSVECTOR, nullable=False),
    )
    op.create_index("keyword_chunks_document", "keyword_chunks", ["collection", "document"])
    op.create_index("keyword_chunks_tokens", "keyword_chunks", ["tokens"], postgresql_using="gin")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in ("keyword_stats", "keyword_terms", "keyword_chunks"):
        op.drop_table(table)
