"""Alembic migrations of the index (a package so that setuptools ships env.py)."""
