"""PostgreSQL: one lazily connecting asyncpg pool, and one slice of statements per feature:

    postgres.leads         leads.py         submissions and leads: record, verify, dedupe lookup
    postgres.dead_letters  deadletters.py   what PostgreSQL refused for good
    postgres.campaign      campaign.py      rollups, intake counts, /admin/'s leads table and
                                            users, the export's cursor
    postgres.webhooks      webhooks.py      the outbox: endpoints, claims, outcomes
    postgres.campaigns     campaigns.py     the campaigns beside the default one (`campaigns add`)
    postgres.privacy       privacy.py       erasure marks and erasure (ERASED_ROWS), retention's run
    postgres.readapi       readapi.py       the read API's keys and its pages in commit order

The pool is private to this package (each slice is handed it); `connection.py` makes it and
turns driver errors into StoreError. Statements live in sql/, the schema in migrations/.
"""

from __future__ import annotations

import asyncpg

from leadcap.stores import round_trip_ms
from leadcap.stores.postgres.campaign import CampaignStore
from leadcap.stores.postgres.campaigns import CampaignFileStore
from leadcap.stores.postgres.connection import close_pool, create_pool, translated
from leadcap.stores.postgres.deadletters import DeadLetterStore
from leadcap.stores.postgres.leads import LeadStore
from leadcap.stores.postgres.privacy import PrivacyStore
from leadcap.stores.postgres.readapi import ReadApiStore
from leadcap.stores.postgres.webhooks import WebhookStore


class Postgres:
    """A lazily connecting asyncpg pool and its slices: opening it never fails because the
    server is down."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool  # private: callers ask for what they need through the slices
        self.leads = LeadStore(pool)
        self.dead_letters = DeadLetterStore(pool)
        self.campaign = CampaignStore(pool)
        self.webhooks = WebhookStore(pool)
        self.campaigns = CampaignFileStore(pool)
        self.privacy = PrivacyStore(pool)
        self.readapi = ReadApiStore(pool)

    @classmethod
    async def open(cls, url: str, *, max_size: int = 10, timeout: float = 5.0) -> Postgres:
        return cls(await create_pool(url, max_size=max_size, timeout=timeout))

    async def close(self) -> None:
        await close_pool(self._pool)

    async def ping(self) -> float:
        """Round-trip a trivial query; return its latency in ms."""
        async with translated("ping"):
            return await round_trip_ms(self._pool.fetchval("SELECT 1"))

    def pool_for_tests(self) -> asyncpg.Pool:
        """The raw pool, for tests that set up or inspect rows directly. Not for the application."""
        return self._pool
