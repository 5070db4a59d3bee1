"""The schema: one .sql file per migration, applied in name order, each once (../migrate.py)."""
