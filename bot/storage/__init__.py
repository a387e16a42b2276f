"""Durable state: SQLAlchemy 2 (async) models, the database engine, and the operations on them."""
