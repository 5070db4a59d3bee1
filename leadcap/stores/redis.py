"""Redis: one client, the intake script, heartbeats. Driver errors become StoreError."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import MaxConnectionsError, NoScriptError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.typing import EncodableT, FieldT

from leadcap import keys
from leadcap.errors import StoreError

_INTAKE_LUA = files("leadcap").joinpath("intake.lua").read_text(encoding="utf-8")
# Phone verification's scripts (leadcap/verification/verifier.py): spend every SMS budget or none, and
# take one try of a code.
_SMS_BUDGET_LUA = files("leadcap").joinpath("sms_budget.lua").read_text(encoding="utf-8")
_VERIFY_TAKE_LUA = files("leadcap").joinpath("verify_take.lua").read_text(encoding="utf-8")
# /admin/ sign-in (leadcap/campaign/admin_sessions.py): count an attempt before its password is checked.
_ADMIN_SIGNIN_LUA = files("leadcap").joinpath("admin_signin.lua").read_text(encoding="utf-8")
# Delete the dedupe key only while it still holds this submission's id: a later, accepted
# submission of the same phone keeps its own.
_FORGET_DEDUPE = (
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
)


@asynccontextmanager
async def translated(action: str) -> AsyncIterator[None]:
    """Run a block, turning any driver failure into StoreError('redis', …)."""
    try:
        yield
    except (RedisError, OSError, TimeoutError) as exc:
        raise StoreError("redis", f"{action} failed: {type(exc).__name__}: {exc}") from exc


class DirectWriteConnection(aioredis.Connection):
    """A connection that writes a command without a task of its own when the socket takes it.

    redis-py bounds every write with `asyncio.wait_for(…, socket_timeout)`, which wraps the write
    in a new Task and costs an extra turn of the event loop per command (~4% of a POST's CPU in
    the web profile). A command of a few hundred bytes nearly always fits in the socket's buffer
    at once, and then there is nothing to wait for. Only when the transport kept some back (Redis
    not reading) is the drain awaited, under the same timeout and with the same errors as
    redis-py's. Health checks, reconnects and closing transports take redis-py's own path.
    """

    async def send_packed_command(
        self, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        writer = self._writer
        if (
            writer is None
            or writer.transport.is_closing()
            or (
                check_health
                and self.health_check_interval
                and asyncio.get_running_loop().time() > self.next_health_check
            )
        ):
            await super().send_packed_command(command, check_health)
            return
        if isinstance(command, str):
            command = command.encode()
        try:
            if isinstance(command, bytes):
                writer.write(command)
            else:
                writer.writelines(command)
            if writer.transport.get_write_buffer_size():
                async with asyncio.timeout(self.socket_timeout):
                    await writer.drain()
        except TimeoutError:
            await self.disconnect(nowait=True)
            raise RedisTimeoutError("Timeout writing to socket") from None
        except OSError as exc:
            await self.disconnect(nowait=True)
            raise RedisConnectionError(f"Error while writing to socket: {exc}") from exc
        except BaseException:  # a half-sent command must not be followed by another on this socket
            await self.disconnect(nowait=True)
            raise


class WaitingPool(aioredis.ConnectionPool):
    """A connection pool that waits (up to `timeout` s) for a free connection when all
    `max_connections` are in use, like redis-py's BlockingConnectionPool, but pays for the
    waiting only then.

    BlockingConnectionPool takes an asyncio.Condition, starts an asyncio timeout and runs a
    wait_for predicate on every command, and notifies on every release: ~10% of a POST's CPU
    in the web profile. Here a command takes a free connection the plain ConnectionPool way,
    and only when there is none does it queue. A plain ConnectionPool alone is not enough:
    past `max_connections` concurrent commands (a burst, or Redis stalling for a moment) it
    fails them at once with "Too many connections", which the intake would take for Redis
    being down.

    Waiting is first come, first served: each release wakes the longest waiter and keeps a
    connection for it, and while anyone waits, newcomers queue behind.
    """

    def __init__(self, *, timeout: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.timeout = timeout
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._reserved = 0  # waiters woken by a release that have not taken their connection yet

    async def get_connection(self, *args: Any, **kwargs: Any) -> AbstractConnection:
        if not self._waiters and not self._reserved:
            try:
                return await self._take()
            except MaxConnectionsError:
                pass
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while True:
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                async with asyncio.timeout_at(deadline):
                    await waiter
            except BaseException as exc:  # timed out, or the caller was cancelled
                if waiter.done() and not waiter.cancelled():
                    self._reserved -= 1  # a release woke us, but we will not take it: pass it on
                    self._wake_one()
                else:
                    with contextlib.suppress(ValueError):
                        self._waiters.remove(waiter)
                if isinstance(exc, TimeoutError):
                    raise RedisConnectionError("No connection available.") from None
                raise
            self._reserved -= 1
            try:
                return await self._take()
            except MaxConnectionsError:  # not expected (the connection was kept for us): wait again
                continue

    async def _take(self) -> AbstractConnection:
        """A free connection the plain pool's way; MaxConnectionsError if there is none."""
        connection: AbstractConnection = await super().get_connection()  # type: ignore[no-untyped-call]
        return connection

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                self._reserved += 1
                return

    async def release(self, connection: AbstractConnection) -> None:
        await super().release(connection)
        if self._waiters:
            self._wake_one()


class Redis:
    """A pooled client with short timeouts: the request path must never hang on Redis."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client  # private: callers ask for what they need through the methods below
        self._intake_sha = hashlib.sha1(_INTAKE_LUA.encode(), usedforsecurity=False).hexdigest()
        self._sms_budget = client.register_script(_SMS_BUDGET_LUA)
        self._verify_take = client.register_script(_VERIFY_TAKE_LUA)
        self._admin_signin = client.register_script(_ADMIN_SIGNIN_LUA)

    @classmethod
    def open(cls, url: str, *, timeout: float = 1.0, max_connections: int = 64) -> Redis:
        # Under a burst a command waits up to `timeout` for a free connection instead of failing;
        # every read has the same timeout (socket_timeout). With hiredis installed (the
        # redis[hiredis] dependency) redis-py parses replies in C.
        pool = WaitingPool.from_url(
            url,
            max_connections=max_connections,
            timeout=timeout,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            health_check_interval=30,
            connection_class=DirectWriteConnection,  # rediss:// and unix:// keep redis-py's own
        )
        return cls(aioredis.Redis(connection_pool=pool))

    async def close(self) -> None:
        await self._client.aclose()

    async def ping(self) -> float:
        async with translated("ping"):
            started = time.perf_counter()
            await self._client.ping()
            return (time.perf_counter() - started) * 1000

    async def intake(self, keys: list[str], args: list[Any]) -> list[Any]:
        """Run intake.lua: rate limit, then (optionally) dedupe and enqueue, in one round trip."""
        # EVALSHA directly: redis-py's Script wrapper checks isinstance against a Protocol-based
        # class on every call, 1-2% of a POST.
        async with translated("intake"):
            try:
                result = await self._client.evalsha(self._intake_sha, len(keys), *keys, *args)
            except NoScriptError:  # a new or restarted Redis: load the script, once
                self._intake_sha = await self._client.script_load(_INTAKE_LUA)
                result = await self._client.evalsha(self._intake_sha, len(keys), *keys, *args)
        return list(result)

    async def forget_dedupe(self, phone: str, submission_id: str) -> None:
        """Delete `phone`'s dedupe key if it still names `submission_id` (a dead letter's)."""
        async with translated("clearing a dedupe key"):
            await self._client.eval(_FORGET_DEDUPE, 1, keys.dedupe(phone), submission_id)

    async def count(self, key: str, amount: int = 1) -> None:
        """Add `amount` to a shared counter (keys.STATS_*)."""
        async with translated("counting"):
            await self._client.incrby(key, amount)

    async def queue_figures(self) -> tuple[int, int, int, int]:
        """The lead stream's length and the processed, failed and dead-letter counters."""
        async with translated("reading queue figures"):
            pipe = self._client.pipeline(transaction=False)
            pipe.xlen(keys.LEAD_STREAM)
            pipe.get(keys.STATS_PROCESSED)
            pipe.get(keys.STATS_FAILED)
            pipe.get(keys.STATS_DEAD_LETTERS)
            depth, processed, failed, dead = await pipe.execute()
        return int(depth), int(processed or 0), int(failed or 0), int(dead or 0)

    async def beat(self, name: str, now: float) -> None:
        """Record a worker's heartbeat at `now`, and forget workers silent for longer than the TTL."""
        async with translated("sending a heartbeat"):
            pipe = self._client.pipeline(transaction=True)
            pipe.zadd(keys.WORKERS, {name: now})
            pipe.zremrangebyscore(keys.WORKERS, "-inf", f"({now - keys.HEARTBEAT_TTL_S}")
            pipe.expire(keys.WORKERS, keys.WORKERS_IDLE_TTL_S)  # a retired deployment leaves nothing
            await pipe.execute()

    async def forget_beat(self, name: str) -> None:
        async with translated("withdrawing a heartbeat"):
            await self._client.zrem(keys.WORKERS, name)

    async def heartbeats(self, since: float) -> tuple[int, float | None]:
        """How many workers beat since `since`, and the time of the latest beat (None: none)."""
        async with translated("reading heartbeats"):
            pipe = self._client.pipeline(transaction=False)
            pipe.zcount(keys.WORKERS, since, "+inf")
            pipe.zrange(keys.WORKERS, -1, -1, withscores=True)
            count, latest = await pipe.execute()
        return int(count), float(latest[0][1]) if latest else None

    async def landing_publish(self, body: bytes | None) -> int:
        """Store (or, without a body, remove) the shared landing page; return the bumped version."""
        async with translated("publishing the landing page"):
            pipe = self._client.pipeline(transaction=True)
            if body is None:
                pipe.delete(keys.LANDING_HTML)
            else:
                pipe.set(keys.LANDING_HTML, body)
            pipe.incr(keys.LANDING_VERSION)
            *_, version = await pipe.execute()
        return int(version)

    def landing_channel(self) -> str:
        """The announcement channel of this Redis database: pub/sub ignores database numbers, and
        deployments sharing one Redis server must not hear (and wait for) each other."""
        return f"{keys.LANDING_CHANNEL}:{self._client.connection_pool.connection_kwargs.get('db', 0)}"

    async def announce(self, channel: str, message: str) -> int:
        """Publish `message`; return how many subscribers received it."""
        async with translated("announcing the landing version"):
            return int(await self._client.publish(channel, message))

    async def landing_acks(self, version: int) -> int:
        async with translated("reading landing acknowledgements"):
            return int(await self._client.scard(keys.landing_ack(version)))

    async def landing_acknowledge(self, version: int, process: str, ttl_s: int) -> None:
        async with translated("acknowledging the landing version"):
            pipe = self._client.pipeline(transaction=False)
            pipe.sadd(keys.landing_ack(version), process)
            pipe.expire(keys.landing_ack(version), ttl_s)
            await pipe.execute()

    async def landing_snapshot(self) -> tuple[int, bytes | None]:
        """The landing version and the shared copy, read together so they belong to each other."""
        async with translated("reading the landing page"):
            pipe = self._client.pipeline(transaction=True)
            pipe.get(keys.LANDING_VERSION)
            pipe.get(keys.LANDING_HTML)
            version, body = await pipe.execute()
        return int(version or 0), body.encode() if isinstance(body, str) else body

    async def landing_version(self) -> int:
        async with translated("reading the landing version"):
            value = await self._client.get(keys.LANDING_VERSION)
        return int(value or 0)

    async def add_visitors(self, members: Sequence[bytes], into: Sequence[tuple[str, int]]) -> None:
        """PFADD `members` into each HyperLogLog of `into` and set its TTL (s), in one round trip."""
        async with translated("counting visits"):
            pipe = self._client.pipeline(transaction=False)
            for key, ttl_s in into:
                pipe.pfadd(key, *members)
                pipe.expire(key, ttl_s)
            await pipe.execute()

    async def visitor_counts(self, names: Sequence[str], union_of: Sequence[str]) -> tuple[list[int], int]:
        """PFCOUNT of each HyperLogLog of `names`, and of the union of `union_of` (0 if empty)."""
        async with translated("reading visits"):
            pipe = self._client.pipeline(transaction=False)
            for name in names:
                pipe.pfcount(name)
            pipe.pfcount(*union_of) if union_of else pipe.echo("0")
            counts = await pipe.execute()
        return [int(c) for c in counts[:-1]], int(counts[-1])

    async def save_session(self, key: str, data: bytes, ttl_s: int) -> None:
        """Store an /admin/ session's record under `key`, expiring after `ttl_s` idle seconds."""
        async with translated("starting an admin session"):
            await self._client.set(key, data, ex=ttl_s)

    async def load_session(self, key: str) -> bytes | None:
        async with translated("reading an admin session"):
            raw = await self._client.get(key)
        return raw.encode() if isinstance(raw, str) else raw

    async def extend_session(self, key: str, ttl_s: int) -> None:
        """Push a session's idle expiry `ttl_s` seconds forward."""
        async with translated("reading an admin session"):
            await self._client.expire(key, ttl_s)

    async def drop_session(self, key: str) -> None:
        async with translated("ending an admin session"):
            await self._client.delete(key)

    async def begin_sign_in(self, sign_in_keys: Sequence[str], args: Sequence[Any]) -> tuple[bool, int]:
        """Run admin_signin.lua: count a sign-in attempt before its password is checked, or
        refuse it; (counted, seconds to wait when refused)."""
        async with translated("counting a sign-in attempt"):
            counted, wait = await self._admin_signin(keys=list(sign_in_keys), args=list(args))
        return bool(int(counted)), int(wait)

    async def end_sign_in(
        self, member: str, checking: Sequence[str], give_back: Sequence[str], clear: Sequence[str]
    ) -> None:
        """An attempt's password was checked: drop `member` from the `checking` sets and from the
        `give_back` failure sets, and delete the `clear` keys, in one transaction."""
        async with translated("ending a sign-in attempt"):
            pipe = self._client.pipeline(transaction=True)
            for key in (*checking, *give_back):
                pipe.zrem(key, member)
            if clear:
                pipe.delete(*clear)
            await pipe.execute()

    async def add_webhook_outcomes(self, counts: Mapping[str, int]) -> None:
        """Add this process's webhook attempts by outcome to the shared counters."""
        async with translated("counting webhook outcomes"):
            pipe = self._client.pipeline(transaction=False)
            for outcome, n in counts.items():
                pipe.hincrby(keys.WEBHOOK_OUTCOMES, outcome, n)
            await pipe.execute()

    async def webhook_outcomes(self) -> dict[str, int]:
        """Every process's webhook attempts by outcome, as counted so far."""
        async with translated("reading webhook outcomes"):
            counts = await self._client.hgetall(keys.WEBHOOK_OUTCOMES)
        return {k.decode() if isinstance(k, bytes) else str(k): int(v) for k, v in counts.items()}

    # -- phone verification (leadcap/verification/verifier.py keeps the rules) ---------------------------

    async def hold_verification(self, key: str, fields: Mapping[str, str], ttl_s: int) -> None:
        """Keep a pending verification's fields (a hash) for `ttl_s` seconds."""
        async with translated("storing a verification"):
            pipe = self._client.pipeline(transaction=False)
            mapping: dict[FieldT, EncodableT] = {}
            mapping.update(fields)
            pipe.hset(key, mapping=mapping)
            pipe.expire(key, ttl_s)
            await pipe.execute()

    async def held_verification(self, key: str) -> dict[str, str]:
        """A pending verification's fields; empty when there is none."""
        async with translated("reading a verification"):
            raw = await self._client.hgetall(key)
        return {_text(k): _text(v) for k, v in raw.items()}

    async def start_cooldown(self, key: str, ttl_ms: int) -> int | None:
        """Set `key` for `ttl_ms` unless it is set; None if this call set it, else the ms it has left."""
        async with translated("resend cooldown"):
            if await self._client.set(key, "1", nx=True, px=ttl_ms):
                return None
            return int(await self._client.pttl(key))

    async def store_code(
        self, code_key: str, digest: str, ttl_ms: int, cooldown: tuple[str, int] | None
    ) -> None:
        """Replace a code's hash (its HMAC `digest`, no tries yet) for `ttl_ms`, and start the
        resend `cooldown` (key, ms) with it, in one transaction."""
        async with translated("storing a code"):
            pipe = self._client.pipeline(transaction=True)
            pipe.delete(code_key)
            pipe.hset(code_key, mapping={"h": digest, "tries": 0})
            pipe.pexpire(code_key, ttl_ms)
            if cooldown is not None:
                pipe.set(cooldown[0], "1", px=cooldown[1])
            await pipe.execute()

    async def spend_sms(self, budgets: Sequence[str], args: Sequence[Any]) -> tuple[bool, int]:
        """Run sms_budget.lua: take one send from every budget, or none; (ok, 1-based index of
        the spent budget)."""
        async with translated("sms budgets"):
            ok, which, _left = await self._sms_budget(keys=list(budgets), args=list(args))
        return bool(int(ok)), int(which)

    async def refund_sms(self, budgets: Sequence[str], member: str) -> None:
        async with translated("sms refund"):
            pipe = self._client.pipeline(transaction=False)
            for name in budgets:
                pipe.zrem(name, member)
            await pipe.execute()

    async def sms_sent_since(self, since_ms: int) -> int:
        """SMS the whole site sent since `since_ms` (the global budget's window, leadcap:sms:all:)."""
        async with translated("reading the sms budget"):
            return int(await self._client.zcount(keys.SMS_ALL, since_ms, "+inf"))

    async def take_code(
        self, code_key: str, hold_key: str, token_digest: str, max_tries: int
    ) -> tuple[str, str, int]:
        """Run verify_take.lua: one try of a code, for the holder of the lead's token only;
        (verdict, stored hash, tries so far)."""
        async with translated("checking a code"):
            taken = await self._verify_take(keys=[code_key, hold_key], args=[max_tries, token_digest])
        if len(taken) < 3:
            return _text(taken[0]), "", 0
        return _text(taken[0]), _text(taken[1]), int(taken[2])

    async def kill_code(self, code_key: str) -> None:
        """Drop a code's hash and mark it dead (too many wrong tries), in one transaction."""
        async with translated("killing a code"):
            pipe = self._client.pipeline(transaction=True)
            pipe.hdel(code_key, "h")
            pipe.hset(code_key, "dead", "1")
            await pipe.execute()

    async def code_state(self, code_key: str, wait_key: str) -> tuple[int, bool, int]:
        """A code's ms to live, whether it is dead, and the resend cooldown's ms to live."""
        async with translated("reading a verification"):
            pipe = self._client.pipeline(transaction=False)
            pipe.pttl(code_key)
            pipe.hexists(code_key, "dead")
            pipe.pttl(wait_key)
            code_ms, dead, wait_ms = await pipe.execute()
        return int(code_ms), bool(dead), int(wait_ms)

    async def close_verification(self, hold_key: str, fields: Sequence[str], *names: str) -> None:
        """A verified lead: drop `fields` of its verification's hash (what it held for a resend)
        and the keys `names` (the used code, its cooldown), in one transaction."""
        async with translated("forgetting a verification"):
            pipe = self._client.pipeline(transaction=True)
            pipe.hdel(hold_key, *fields)
            pipe.delete(*names)
            await pipe.execute()

    async def forget(self, *names: str, action: str = "forgetting a code") -> None:
        """Delete keys (a used or unsent code, its cooldown, its verification)."""
        async with translated(action):
            await self._client.delete(*names)

    def subscription(self) -> Subscription:
        """A pub/sub connection of its own (close it when done)."""
        return Subscription(self._client.pubsub())

    def client_for_tests(self) -> aioredis.Redis:
        """The raw client, for tests that set up or inspect keys directly. Not for the application."""
        return self._client


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class Subscription:
    """A pub/sub connection whose failures are StoreError, like every other call here."""

    def __init__(self, pubsub: PubSub) -> None:
        self._pubsub = pubsub

    async def subscribe(self, channel: str) -> None:
        async with translated("subscribing"):
            await self._pubsub.subscribe(channel)

    async def message(self, timeout: float) -> dict[str, Any] | None:
        """The next message (subscription confirmations included), or None after `timeout` s."""
        async with translated("listening"):
            message: dict[str, Any] | None = await self._pubsub.get_message(timeout=timeout)
        return message

    async def close(self) -> None:
        # redis-py types aclose() in some releases (8.2 does), not in the one this ignore was
        # written for: either way mypy --strict passes.
        await self._pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]
