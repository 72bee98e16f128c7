"""Database models, engine and transactions."""
