"""Alembic revisions of factvault's SQL schema: the only place the schema changes.

A package, so the distribution ships it and a plain (non-editable) install can migrate.
"""
