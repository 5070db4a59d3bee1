"""The delivery loop: claims due deliveries, sends them signed, records what happened.

Runs inside every `leadcap worker` (so also beside `leadcap serve` on the embedded default).
Any number of loops share the work: a claim takes rows FOR UPDATE SKIP LOCKED and leases them
(leadcap/stores/postgres/webhooks.py, sql/webhook_claim.sql). A delivery becomes `delivered`
only after a 2xx was received; a loop killed mid-send leaves its rows leased, and they become
due again when the lease ends (at least once; receivers dedupe on `webhook-id`).

Isolation: each endpoint has its own Breaker (a cap on sends in flight, and a circuit breaker),
and a claim asks for rows per endpoint only as far as that endpoint has room. A slow or dead
endpoint fills only its own slots; the others' rows are claimed and sent as before.

Kinds: every endpoint is sent through its kind's Transport (transport.py): a webhook one signed
POST per event; a notification channel (Telegram, Bale, email: leadcap/notify/, handed in by the
worker) one message per group of up to `batch` events, at most one every `interval_s` per
endpoint, and never before the time a 429's `retry_after` names. An endpoint whose kind has no
transport in this loop is left alone: its rows wait, pending.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from leadcap import retry
from leadcap.errors import StoreError
from leadcap.groupcommit import GroupCommit
from leadcap.settings import Settings
from leadcap.stores.postgres.webhooks import WEBHOOK, Claim, Endpoint, Outcome, WebhookStore
from leadcap.webhooks import schedule
from leadcap.webhooks.breaker import MAX_COOLDOWN_S, Breaker
from leadcap.webhooks.sender import Attempt
from leadcap.webhooks.transport import Signed, Transport

log = logging.getLogger(__name__)
POLL_S = 0.1  # how often an idle loop looks for due rows: a new lead goes out within ~this
ENDPOINTS_EVERY_S = 1.0  # how often the list of endpoints (added, removed, disabled) is re-read
MAX_IN_FLIGHT = 512  # sends in flight per loop, over all endpoints
STOP_GRACE_S = 5.0  # on shutdown, sends in flight get this long; the rest stay leased
QUEUE_MAX = 128  # claimed rows an endpoint may hold queued beside its sends in flight
# A queued row is sent only while its lease still covers a whole send and this margin after it.
LEASE_MARGIN_S = 5.0
SEND_BUDGET_S = schedule.LEASE_S - schedule.TIMEOUT_S - LEASE_MARGIN_S
LATENCY_WEIGHT = 0.2  # of the newest send in an endpoint's moving average of send times
FINISH_LINGER_S = 0.02  # under load, outcomes gather this long into one UPDATE


class Deliverer:
    """One delivery loop. `counts` adds up outcomes (delivered, retried, failed, gone, refused)
    for metrics; `on_attempt` gets every attempt as a request-log document (never the payload).
    `transports`: the notification channels' kinds (leadcap/notify/), beside webhooks."""

    def __init__(
        self,
        store: WebhookStore,
        settings: Settings,
        *,
        on_attempt: Callable[[dict[str, Any]], None] | None = None,
        transports: Mapping[str, Transport] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        webhooks = Signed(
            allow_private=settings.webhook_allow_private,
            cap=settings.webhook_concurrency,
            max_connections=MAX_IN_FLIGHT,
        )
        self.transports: dict[str, Transport] = {WEBHOOK: webhooks, **(transports or {})}
        self.on_attempt = on_attempt
        self.not_before: dict[int, float] = {}  # per endpoint: no send starts before (monotonic)
        self.breakers: dict[int, Breaker] = {}
        # per endpoint: claimed rows, each with the monotonic time by which it must start
        self.queues: dict[int, deque[tuple[float, Claim]]] = {}
        self.latency_s: dict[int, float] = {}  # per endpoint: moving average of send times
        self.endpoints: dict[int, Endpoint] = {}
        self.counts: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._slot_freed = asyncio.Event()
        self._finisher: GroupCommit[Outcome] = GroupCommit(
            store.finish, max_batch=500, linger_s=FINISH_LINGER_S
        )
        self._endpoints_read = 0.0

    def _breaker(self, endpoint_id: int) -> Breaker:
        breaker = self.breakers.get(endpoint_id)
        if breaker is None:
            cooldown = min(MAX_COOLDOWN_S, float(self.settings.webhook_backoff_cap_seconds))
            endpoint = self.endpoints.get(endpoint_id)
            cap = self.transports[endpoint.kind].cap if endpoint else self.settings.webhook_concurrency
            breaker = self.breakers[endpoint_id] = Breaker(cap, cooldown)
        return breaker

    async def _refresh_endpoints(self) -> None:
        if time.monotonic() - self._endpoints_read < ENDPOINTS_EVERY_S:
            return
        found = await self.store.enabled_endpoints()
        self.endpoints = {e.id: e for e in found if e.kind in self.transports}
        self._endpoints_read = time.monotonic()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; survive PostgreSQL going away (retry with backoff)."""
        failures = 0
        try:
            while not stop.is_set():
                try:
                    claimed = await self.tick()
                    failures = 0
                except StoreError as exc:
                    failures += 1
                    delay = retry.delay(failures, base=0.2, cap=5.0)
                    log.warning("webhook delivery loop: %s; again in %.1fs", exc.reason, delay)
                    claimed = 0
                    await _wait(stop, delay)
                    continue
                if not claimed:
                    self._slot_freed.clear()
                    await _wait(stop, POLL_S, self._slot_freed)
        finally:
            await self._drain()
            for transport in self.transports.values():
                await transport.close()

    async def tick(self) -> int:
        """Claim what every endpoint has room for, start what may start; return how many claimed.

        Each endpoint keeps a queue of claimed rows beside its sends in flight, so a freed slot
        starts the next send at once, without a database round trip, and claims come in batches.
        The queue is as deep as the endpoint will work through within a lease at its recent
        speed (queue_depth): its cap for a slow endpoint, up to QUEUE_MAX for a fast one, whose
        claims then take dozens of rows in one round trip. A row that waited so long that its
        lease would end before its send does is handed back instead of sent (_dispatch).
        """
        await self._refresh_endpoints()
        if not self.endpoints:
            return 0
        now = time.monotonic()
        deadline = now + SEND_BUDGET_S  # taken before the claim: its lease starts later
        budget = MAX_IN_FLIGHT - len(self._tasks) - sum(len(q) for q in self.queues.values())
        room: dict[int, int] = {}
        turns: dict[int, int] = {}  # channels that may send now, if their turn is taken
        for endpoint_id in self.endpoints:
            breaker = self._breaker(endpoint_id)
            queue = self.queues.setdefault(endpoint_id, deque())
            if breaker.is_open(now):
                self._release(queue, breaker.open_until - now)
                continue
            batch = self.transports[self.endpoints[endpoint_id].kind].batch
            if batch > 1:  # a channel: one group of events at a time, when its pacing allows
                if not (queue or breaker.in_flight) and now >= self.not_before.get(endpoint_id, 0.0):
                    turns[endpoint_id] = min(batch, budget)
                    budget -= turns[endpoint_id]
                continue
            # Closed: its cap in flight plus a queue. Half-open: a single probe.
            depth = queue_depth(breaker.cap, self.latency_s.get(endpoint_id, schedule.TIMEOUT_S))
            target = 1 if breaker.tripped else breaker.cap + depth
            want = min(target - breaker.in_flight - len(queue), budget)
            # Refill in batches: when half the queue is free, or when all is idle.
            if want > 0 and (want >= max(1, depth // 2) or not (queue or breaker.in_flight)):
                room[endpoint_id] = want
                budget -= want
        if turns:  # the pace is shared: of several workers, one sends to a chat per interval
            hold = schedule.TIMEOUT_S + max(self.transports[self.endpoints[i].kind].interval_s for i in turns)
            room.update({i: turns[i] for i in await self.store.take_turns(list(turns), hold)})
        claims = await self.store.claim(room, schedule.LEASE_S) if room else []
        for idle in set(turns) & set(room) - {c.endpoint_id for c in claims}:
            self._pace(idle, 0.0)  # its turn was taken but nothing came of it: hand it on
        for claim in claims:
            self.queues.setdefault(claim.endpoint_id, deque()).append((deadline, claim))
        for endpoint_id in list(self.queues):
            self._dispatch(endpoint_id)
        return len(claims)

    def _dispatch(self, endpoint_id: int) -> None:
        """Start sends from the endpoint's queue while its breaker has room."""
        queue = self.queues.get(endpoint_id)
        endpoint = self.endpoints.get(endpoint_id)
        if not queue:
            return
        if endpoint is None:  # removed or disabled meanwhile: its leases run out, nothing is sent
            queue.clear()
            return
        breaker = self._breaker(endpoint_id)
        now = time.monotonic()
        stale = []
        while queue and queue[0][0] < now:  # its lease could end mid-send: due again at once
            stale.append(queue.popleft()[1])
        if stale:
            self._hand_back(stale, 0.0, "not sent: its lease ran short in the queue")
        batch = self.transports[endpoint.kind].batch
        while queue and breaker.room(now) > 0 and now >= self.not_before.get(endpoint_id, 0.0):
            breaker.started()
            claims = [queue.popleft()[1] for _ in range(min(batch, len(queue)))]
            task = asyncio.create_task(self._deliver(endpoint, claims))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _pace(self, endpoint_id: int, wait_s: float) -> None:
        """Tell every worker when the channel's next message may start."""

        async def record() -> None:
            try:
                await self.store.next_turn(endpoint_id, wait_s)
            except StoreError as exc:  # the turn taken still holds it for a send's timeout
                log.warning("the pace of channel %d not recorded: %s", endpoint_id, exc.reason)

        task = asyncio.create_task(record())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _release(self, queue: deque[tuple[float, Claim]], delay_s: float) -> None:
        """Hand queued rows of an endpoint whose breaker opened back, due after the cooldown."""
        if not queue:
            return
        claims = [claim for _, claim in queue]
        queue.clear()
        self._hand_back(claims, delay_s, "not sent: circuit open")

    def _hand_back(self, claims: list[Claim], delay_s: float, why: str) -> None:
        """Make claimed rows that were not sent due again after `delay_s`."""
        outcomes = [Outcome(c.id, c.attempts, "pending", max(0.0, delay_s), None, why) for c in claims]
        task = asyncio.create_task(self._record(outcomes))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _record(self, outcomes: list[Outcome]) -> None:
        try:
            await asyncio.gather(*(self._finisher.submit(o) for o in outcomes))
        except StoreError as exc:  # their leases run out and they are sent later: nothing is lost
            log.warning("released webhook deliveries not recorded: %s", exc.reason)

    async def _deliver(self, endpoint: Endpoint, claims: Sequence[Claim]) -> None:
        transport = self.transports[endpoint.kind]
        ok = False
        attempt = Attempt(None, "not sent", 0.0)
        try:
            try:
                attempt = await transport.send(endpoint, claims)
            except Exception as exc:
                log.exception("%s endpoint %d: the send itself failed", endpoint.kind, endpoint.id)
                attempt = Attempt(None, f"{type(exc).__name__} while sending", 0.0)
            ok = attempt.ok
            previous = self.latency_s.get(endpoint.id, schedule.TIMEOUT_S)
            self.latency_s[endpoint.id] = previous + LATENCY_WEIGHT * (attempt.latency_ms / 1000 - previous)
        finally:
            wait = max(transport.interval_s, attempt.retry_after_s or 0.0)
            if wait:
                self.not_before[endpoint.id] = time.monotonic() + wait
                self._pace(endpoint.id, wait)
            self._breaker(endpoint.id).finished(ok, time.monotonic())
            self._dispatch(endpoint.id)
            self._slot_freed.set()
        outcomes = []
        for claim in claims:
            verdict = schedule.verdict(
                attempt.status,
                attempt=claim.attempts,
                age_s=claim.age_s,
                window_s=self.settings.webhook_retry_window_seconds,
                cap_s=self.settings.webhook_backoff_cap_seconds,
                retry_after_s=attempt.retry_after_s,
                disable=attempt.disable is not None,
            )
            outcomes.append((claim, verdict, _outcome_name(attempt, verdict)))
            if self.on_attempt:
                self.on_attempt(
                    {
                        "kind": endpoint.kind,
                        "time": datetime.now(UTC),
                        "delivery_id": claim.id,
                        "event_id": str(claim.event_id),
                        "event_type": claim.type,
                        "endpoint_id": endpoint.id,
                        "attempt": claim.attempts,
                        "status": attempt.status,
                        "error": attempt.error,
                        "latency_ms": attempt.latency_ms,
                        "outcome": outcomes[-1][2],
                    }
                )
        if outcomes[0][1].disable_endpoint:  # one answer for all of them
            reason = attempt.disable or f"answered {attempt.status} Gone"
            await self.store.disable_endpoint(endpoint.id, reason)
            self.endpoints.pop(endpoint.id, None)
            log.warning("%s endpoint %d disabled: %s", endpoint.kind, endpoint.id, reason)
        status, error = attempt.status, attempt.error
        submits = [
            self._finisher.submit(Outcome(c.id, c.attempts, v.state, v.delay_s, status, error))
            for c, v, _ in outcomes
        ]
        try:
            # a webhook's single outcome is awaited as is: a gather would add a task per delivery
            await (submits[0] if len(submits) == 1 else asyncio.gather(*submits))
        except StoreError as exc:  # the lease runs out and the rows are sent again: nothing is lost
            log.warning("outcome of %d deliveries not recorded: %s", len(claims), exc.reason)
            return
        self.counts.update(name for _, _, name in outcomes)

    async def _drain(self) -> None:
        """Give sends in flight a moment to finish; what is cut off stays leased, sent later."""
        if self._tasks:
            _, pending = await asyncio.wait(list(self._tasks), timeout=STOP_GRACE_S)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)


def queue_depth(cap: int, latency_s: float) -> int:
    """How many claimed rows an endpoint may hold queued: as many as it sends within a lease at
    `latency_s` a send (queued rows go `cap` at a time), at least `cap`, at most QUEUE_MAX."""
    rounds = int(SEND_BUDGET_S / max(latency_s, 0.001))
    return max(cap, min(QUEUE_MAX, cap * rounds))


def _outcome_name(attempt: Attempt, verdict: schedule.Verdict) -> str:
    """The metric label of an attempt: delivered, retried, failed, gone or refused."""
    if verdict.state == "delivered":
        return "delivered"
    if verdict.disable_endpoint:
        return "gone"
    if attempt.error and attempt.error.startswith("refused"):
        return "refused" if verdict.state == "pending" else "failed"
    return "retried" if verdict.state == "pending" else "failed"


async def _wait(stop: asyncio.Event, seconds: float, *also: asyncio.Event) -> None:
    """Sleep up to `seconds`, waking early when `stop` (or any of `also`) is set."""
    waiters = [asyncio.create_task(e.wait()) for e in (stop, *also)]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
