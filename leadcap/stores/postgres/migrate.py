"""Schema migrations: the .sql files in migrations/ beside this module, applied in name order, each once."""

from __future__ import annotations

from importlib.resources import files

import asyncpg

from leadcap.stores.postgres.connection import translated

# Any constant works; it only has to be the same for every `leadcap migrate`.
ADVISORY_LOCK = 0x6C656164  # "lead"


def available() -> list[tuple[str, str]]:
    """(name, sql) of every migration shipped with this version, in order."""
    folder = files("leadcap.stores.postgres.migrations")
    return sorted(
        (entry.name.removesuffix(".sql"), entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    )


async def migrate(url: str) -> list[str]:
    """Apply pending migrations; return the names applied. Safe to run twice or concurrently:
    an advisory lock serialises runners, and all pending files commit in one transaction."""
    async with translated("migrating"):
        conn = await asyncpg.connect(url, timeout=10)
        try:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", ADVISORY_LOCK)
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
                )
                done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
                applied = []
                for name, sql in available():
                    if name in done:
                        continue
                    await conn.execute(sql)
                    await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
                    applied.append(name)
                return applied
        finally:
            await conn.close()
