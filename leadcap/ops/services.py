"""Services: opens and closes the pools (PostgreSQL, Redis, MongoDB) for the web app, worker and CLI.

A command opens only the stores it uses (`Services.open(settings, redis=False, mongo=False)`), so
`export-leads` runs with nothing but `LEADCAP_DATABASE_URL` set. Reaching a store that was not
opened raises ConfigError naming its variable, never AttributeError.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import TypeVar

from leadcap.errors import ConfigError
from leadcap.intake.accept import Intake
from leadcap.ops.requestlog import RequestLog
from leadcap.settings import Settings
from leadcap.stores.mongo import Mongo
from leadcap.stores.postgres import Postgres
from leadcap.stores.redis import Redis
from leadcap.verification.verifier import Verifier, load_key

# Each store's name in Services and health, and the `LEADCAP_<NAME>_URL` setting it reads.
URL_NAMES = {"postgres": "database", "redis": "redis", "mongo": "mongo"}
T = TypeVar("T")


def require_url(settings: Settings, name: str) -> str:
    """The URL of a store, or a ConfigError saying how to get one."""
    value = getattr(settings, f"{name}_url")
    if not value:
        raise ConfigError(
            f"LEADCAP_{name.upper()}_URL",
            f"is not set and no embedded store runs under {settings.data_dir} (start `leadcap serve`)",
        )
    return str(value)


def configured(settings: Settings, store: str) -> bool:
    """Whether `store` (postgres, redis or mongo) has a URL, given or found from a running `serve`."""
    return bool(getattr(settings, f"{URL_NAMES[store]}_url"))


class Services:
    """The connections a process holds. Opening never waits on a store: pools connect lazily,
    so a process starts (and reports the store as down) while a store is unreachable."""

    def __init__(
        self,
        settings: Settings,
        postgres: Postgres | None = None,
        redis: Redis | None = None,
        mongo: Mongo | None = None,
        *,
        more_redis: Sequence[Redis] = (),
    ) -> None:
        self.settings = settings
        self._postgres = postgres
        self._redis = redis
        self._mongo = mongo
        # Every Redis server the intake is sharded over: `redis` (the first, which also keeps the
        # keys no phone owns), then `more_redis`, in LEADCAP_REDIS_URL's order.
        self.shards: tuple[Redis, ...] = (redis, *more_redis) if redis else ()
        self._intake = Intake(settings, shards=self.shards, postgres=postgres) if redis and postgres else None
        self._request_log = RequestLog(mongo, capacity=settings.request_log_buffer) if mongo else None
        # LEADCAP_VERIFY=sms: codes by SMS (leadcap/verification/verifier.py); None when verification is off.
        self.verifier: Verifier | None = None
        if settings.verify == "sms" and redis and postgres:
            self.verifier = Verifier(settings, redis=redis, postgres=postgres, key=load_key(settings))

    @classmethod
    async def open(
        cls,
        settings: Settings,
        *,
        postgres: bool = True,
        redis: bool = True,
        mongo: bool = True,
        pg_pool_size: int = 10,
    ) -> Services:
        """Open the chosen stores; raise ConfigError (naming the variable) when one has no URL."""
        urls = {
            store: require_url(settings, URL_NAMES[store])
            for store, wanted in (("postgres", postgres), ("redis", redis), ("mongo", mongo))
            if wanted
        }
        pg = await Postgres.open(urls["postgres"], max_size=pg_pool_size) if postgres else None
        shards = [Redis.open(url) for url in settings.redis_urls] if redis else []
        return cls(
            settings,
            pg,
            shards[0] if shards else None,
            Mongo.open(urls["mongo"]) if mongo else None,
            more_redis=shards[1:],
        )

    def has(self, store: str) -> bool:
        """Whether `store` (postgres, redis or mongo) was opened."""
        return getattr(self, f"_{store}") is not None

    def _opened(self, thing: T | None, store: str) -> T:
        """`thing`, or a ConfigError naming the store this command did not open (and its variable)."""
        if thing is None:
            raise ConfigError(f"LEADCAP_{URL_NAMES[store].upper()}_URL", "is not opened by this command")
        return thing

    @property
    def postgres(self) -> Postgres:
        return self._opened(self._postgres, "postgres")

    @property
    def redis(self) -> Redis:
        return self._opened(self._redis, "redis")

    @property
    def mongo(self) -> Mongo:
        return self._opened(self._mongo, "mongo")

    @property
    def intake(self) -> Intake:
        return self._opened(self._intake, "postgres" if self._postgres is None else "redis")

    @property
    def request_log(self) -> RequestLog:
        return self._opened(self._request_log, "mongo")

    async def close(self) -> None:
        if self._request_log is not None:
            await self._request_log.close()
        if self.verifier is not None:
            await self.verifier.close()
        for store in (self._mongo, *self.shards, self._postgres):
            if store is not None:
                await store.close()

    async def __aenter__(self) -> Services:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
