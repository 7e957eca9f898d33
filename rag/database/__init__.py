"""The SQL database beside the vectors: everything of the library that is not a vector.

Conversations and their turns, each document's kept text (what citation offsets index into), the
uploaded originals, and with PostgreSQL the keyword index and the ingestion lock. One URL says where
(`RAG_DATABASE_URL`): SQLite in the data directory by default (one user notices nothing), or a
PostgreSQL server that several `rag serve` workers share, so that none of them keeps state of its own.

`engine.database(settings)` gives the process's engine for that URL with its schema at the newest
version (Alembic migrations, `migrations/versions/`); `schema` names the tables.
"""
