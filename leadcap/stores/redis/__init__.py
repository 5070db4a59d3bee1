"""Redis: one pooled client with short timeouts (the request path must never hang on Redis), and
one slice of commands per feature, each in its own module with its Lua beside it:

    redis.intake        intake.py        the intake script (rate limit, dedupe, enqueue), dedupe keys
    redis.verification  verification.py  held verifications, codes, SMS budgets
    redis.campaign      campaign.py      /admin/ sessions and sign-in throttling, unique visitors
    redis.landing       landing.py       the landing page's shared copy, version and announcements
    redis.workers       workers.py       worker heartbeats, the queue's figures, shared counters
    redis.webhooks      webhooks.py      webhook attempts by outcome, all workers
    redis.privacy       privacy.py       erasure: a number's dedupe key, verifications, SMS budgets
    redis.readapi       readapi.py       each read API key's rate limit

The client is private to this package: features call a slice's methods, never the driver, and
every driver error becomes StoreError (connection.translated).
"""

from __future__ import annotations

import redis.asyncio as aioredis

from leadcap import sentinel
from leadcap.stores import round_trip_ms
from leadcap.stores.redis.campaign import CampaignRedis
from leadcap.stores.redis.connection import Subscription, close_sentinels, connect, translated
from leadcap.stores.redis.intake import IntakeRedis
from leadcap.stores.redis.landing import LandingRedis
from leadcap.stores.redis.privacy import PrivacyRedis
from leadcap.stores.redis.readapi import ReadApiRedis
from leadcap.stores.redis.verification import VerificationRedis
from leadcap.stores.redis.webhooks import WebhookRedis
from leadcap.stores.redis.workers import WorkerRedis


class Redis:
    """The connection and its slices."""

    def __init__(self, client: aioredis.Redis, *, wait_replicas: int = 0) -> None:
        self._client = client  # private: callers ask for what they need through the slices
        self.intake = IntakeRedis(client, wait_replicas=wait_replicas)
        self.verification = VerificationRedis(client)
        self.campaign = CampaignRedis(client)
        self.landing = LandingRedis(client)
        self.workers = WorkerRedis(client)
        self.webhooks = WebhookRedis(client)
        self.privacy = PrivacyRedis(client)
        self.readapi = ReadApiRedis(client)

    @classmethod
    def open(cls, url: str, *, timeout: float = 1.0, max_connections: int = 64) -> Redis:
        # Behind Sentinel the intake waits for replicas to hold what it queued (leadcap/sentinel.py).
        replicas = sentinel.parse(url).wait_replicas if sentinel.is_sentinel(url) else 0
        return cls(connect(url, timeout=timeout, max_connections=max_connections), wait_replicas=replicas)

    async def close(self) -> None:
        await self._client.aclose()
        await close_sentinels(self._client.connection_pool)

    async def ping(self) -> float:
        async with translated("ping"):
            return await round_trip_ms(self._client.ping())

    def subscription(self) -> Subscription:
        """A pub/sub connection of its own (close it when done)."""
        return Subscription(self._client.pubsub())

    def client_for_tests(self) -> aioredis.Redis:
        """The raw client, for tests that set up or inspect keys directly. Not for the application."""
        return self._client
