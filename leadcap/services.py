"""Services: opens and closes every pool (PostgreSQL, Redis, MongoDB) for the web app, worker and CLI."""

from __future__ import annotations

from types import TracebackType

from leadcap.errors import ConfigError
from leadcap.intake import Intake
from leadcap.requestlog import RequestLog
from leadcap.settings import Settings
from leadcap.stores.mongo import Mongo
from leadcap.stores.postgres import Postgres
from leadcap.stores.redis import Redis
from leadcap.verification import Verifier, load_key


def require_url(settings: Settings, name: str) -> str:
    """The URL of a store, or a ConfigError saying how to get one."""
    value = getattr(settings, f"{name}_url")
    if not value:
        raise ConfigError(
            f"LEADCAP_{name.upper()}_URL",
            f"is not set and no embedded store runs under {settings.data_dir} (start `leadcap serve`)",
        )
    return str(value)


class Services:
    """Every connection leadcap holds. Opening never waits on a store: pools connect lazily,
    so a process starts (and reports the store as down) while a store is unreachable."""

    def __init__(self, settings: Settings, postgres: Postgres, redis: Redis, mongo: Mongo) -> None:
        self.settings = settings
        self.postgres = postgres
        self.redis = redis
        self.mongo = mongo
        self.intake = Intake(settings, redis=redis, postgres=postgres)
        self.request_log = RequestLog(mongo, capacity=settings.request_log_buffer)
        # LEADCAP_VERIFY=sms: codes by SMS (leadcap/verification.py); None when verification is off.
        self.verifier: Verifier | None = None
        if settings.verify == "sms":
            self.verifier = Verifier(settings, redis=redis, postgres=postgres, key=load_key(settings))

    @classmethod
    async def open(cls, settings: Settings, *, pg_pool_size: int = 10) -> Services:
        urls = {name: require_url(settings, name) for name in ("database", "redis", "mongo")}
        postgres = await Postgres.open(urls["database"], max_size=pg_pool_size)
        return cls(settings, postgres, Redis.open(urls["redis"]), Mongo.open(urls["mongo"]))

    async def close(self) -> None:
        await self.request_log.close()
        if self.verifier is not None:
            await self.verifier.close()
        await self.mongo.close()
        await self.redis.close()
        await self.postgres.close()

    async def __aenter__(self) -> Services:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
