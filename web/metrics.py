"""Prometheus metrics of the web tier. With several Sanic processes, `leadcap serve` points
PROMETHEUS_MULTIPROC_DIR at a folder before any of them starts, and a scrape adds them all up."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import time
from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.registry import REGISTRY

from leadcap.campaign.flushing import PeriodicFlush
from leadcap.errors import StoreError
from leadcap.settings import RateLimit
from leadcap.stores.postgres.webhooks import WebhookStore
from leadcap.stores.redis import Redis

REQUESTS = Counter("leadcap_http_requests_total", "HTTP requests answered.", ["route", "method", "status"])
LATENCY = Histogram(
    "leadcap_http_request_duration_seconds",
    "Time from request to response.",
    ["route"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
_BOUNDS = LATENCY._upper_bounds  # the buckets' upper bounds, +Inf last
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(method: str) -> str:
    """The method as metrics and request logs name it: one of HTTP's usual methods, else `OTHER`,
    so a client inventing methods (any token, kilobytes long) cannot grow label sets or caches."""
    return method if method in METHODS else "OTHER"


class Tally:
    """Per-request counts in plain ints, folded into the Prometheus metrics by `fold`.

    A Prometheus increment in multiprocess mode takes a lock and writes an mmap'd file, and a
    histogram observation two of them; per request, with the label lookups, that was a few
    percent of a POST. Here a request adds to a dict entry. `fold` adds what came since the last
    fold to the metrics: the scrape folds its own process first, and every process folds once a
    second (`MetricsFolder`), so another process's requests reach a scrape within a second.
    """

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = {}
        self.leads: dict[tuple[str, str], int] = {}
        # per route: the count of each bucket (not cumulative, as prometheus_client keeps them)
        # and the sum of the seconds
        self.latency: dict[str, tuple[list[int], list[float]]] = {}

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        """One answered request, as `leadcap_http_requests_total` and `_duration_seconds` count it."""
        key = (route, method_label(method), status)
        self.requests[key] = self.requests.get(key, 0) + 1
        timing = self.latency.get(route)
        if timing is None:
            timing = self.latency[route] = ([0] * len(_BOUNDS), [0.0])
        timing[0][bisect.bisect_left(_BOUNDS, seconds)] += 1  # the first bucket with seconds <= le
        timing[1][0] += seconds

    def lead(self, outcome: str, reason: str = "") -> None:
        """One POST /api/leads/ outcome (`leadcap_leads_total`)."""
        key = (outcome, reason)
        self.leads[key] = self.leads.get(key, 0) + 1

    def fold(self) -> None:
        """Add everything counted since the last fold to the Prometheus metrics."""
        requests, self.requests = self.requests, {}
        leads, self.leads = self.leads, {}
        latency, self.latency = self.latency, {}
        for (route, method, status), n in requests.items():
            REQUESTS.labels(route, method, str(status)).inc(n)
        for (outcome, reason), n in leads.items():
            LEADS.labels(outcome, reason).inc(n)
        for route, (buckets, total) in latency.items():
            child = LATENCY.labels(route)
            # What Histogram.observe does per observation, once per bucket; the attributes are
            # prometheus_client's (tests/web/test_metrics_tally.py checks they are still there).
            child._sum.inc(total[0])
            for bucket, n in zip(child._buckets, buckets, strict=True):
                if n:
                    bucket.inc(n)


TALLY = Tally()


class MetricsFolder(PeriodicFlush):
    """Folds this process's tally into the metrics once a second, and once more on close."""

    what = "metrics"

    async def flush(self) -> int:
        TALLY.fold()
        return 0


LEADS = Counter("leadcap_leads_total", "POST /api/leads/ outcomes.", ["outcome", "reason"])
SMS_SENDS = Counter(
    "leadcap_sms_sends_total",
    "Verification SMS by provider and outcome: sent, invalid_number, no_credit, provider_down, "
    "rejected, budget_<name> (refused by a budget), region_not_allowed.",
    ["provider", "outcome"],
)
VERIFICATIONS = Counter(
    "leadcap_verifications_total",
    "Code checks by outcome: verified or the error code. Verification rate: "
    'verified / leadcap_sms_sends_total{outcome="sent"}.',
    ["outcome"],
)
LOGS_DROPPED = Counter("leadcap_request_logs_dropped_total", "Request logs dropped while MongoDB was away.")


async def _from_redis(redis: Redis, more_redis: Sequence[Redis]) -> str:
    """Figures every process shares, read at scrape time: the queue (on every shard; one that is
    away counts nothing) and the workers' counters (on the first server)."""
    depth, processed, failed, dead = await redis.workers.queue_figures()
    for shard in more_redis:
        with contextlib.suppress(StoreError):
            depth += await shard.workers.queue_depth()
    return (
        "# HELP leadcap_queue_depth Submissions accepted and not yet written to PostgreSQL.\n"
        "# TYPE leadcap_queue_depth gauge\n"
        f"leadcap_queue_depth {depth}\n"
        "# HELP leadcap_worker_processed_total Submissions workers committed to PostgreSQL.\n"
        "# TYPE leadcap_worker_processed_total counter\n"
        f"leadcap_worker_processed_total {processed}\n"
        "# HELP leadcap_worker_failed_total Submissions neither written nor set aside (left pending).\n"
        "# TYPE leadcap_worker_failed_total counter\n"
        f"leadcap_worker_failed_total {failed}\n"
        "# HELP leadcap_dead_letters_total Submissions PostgreSQL refused for good, moved to dead_letters.\n"
        "# TYPE leadcap_dead_letters_total counter\n"
        f"leadcap_dead_letters_total {dead}\n"
    )


async def _sms_budget_left(redis: Redis, budget: RateLimit) -> str:
    """The global SMS budget left in its window, as every process shares it (leadcap:sms:all:)."""
    used = await redis.verification.sms_sent_since(int(time.time() * 1000) - budget.window_s * 1000)
    return (
        "# HELP leadcap_sms_budget_left SMS the global budget (LEADCAP_SMS_BUDGET) still allows now.\n"
        "# TYPE leadcap_sms_budget_left gauge\n"
        f"leadcap_sms_budget_left {max(0, budget.limit - int(used))}\n"
    )


async def render(
    redis: Redis,
    *,
    multiprocess_mode: bool,
    sms_budget: RateLimit | None = None,
    more_redis: Sequence[Redis] = (),
) -> bytes:
    """The Prometheus text exposition of every web process, plus the shared queue figures."""
    TALLY.fold()  # this process's counts up to now; the others' are at most a second old
    if multiprocess_mode:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    text = generate_latest(registry)
    with contextlib.suppress(StoreError):  # Redis away: the per-process figures still go out
        text += (await _from_redis(redis, more_redis)).encode()
    if sms_budget is not None:  # LEADCAP_VERIFY=sms
        with contextlib.suppress(StoreError):
            text += (await _sms_budget_left(redis, sms_budget)).encode()
    return text


WEBHOOK_OUTCOMES = ("delivered", "retried", "refused", "failed", "gone")


async def webhooks(redis: Redis, store: WebhookStore) -> bytes:
    """Webhook figures every process shares, read at scrape time: attempts by outcome (workers
    count them in Redis) and the outbox backlog (PostgreSQL). A store that is away is skipped."""
    lines: list[str] = []
    with contextlib.suppress(StoreError, TimeoutError):
        named = await asyncio.wait_for(redis.webhooks.outcomes(), 1.0)
        lines += [
            "# HELP leadcap_webhook_deliveries_total Webhook attempts by outcome.",
            "# TYPE leadcap_webhook_deliveries_total counter",
        ]
        for outcome in sorted(set(WEBHOOK_OUTCOMES) | set(named)):
            lines.append(f'leadcap_webhook_deliveries_total{{outcome="{outcome}"}} {named.get(outcome, 0)}')
    with contextlib.suppress(StoreError, TimeoutError):
        figures = await asyncio.wait_for(store.figures(), 1.0)
        lines += [
            "# HELP leadcap_webhook_outbox_depth Deliveries not yet made (to enabled endpoints).",
            "# TYPE leadcap_webhook_outbox_depth gauge",
            f"leadcap_webhook_outbox_depth {int(figures['pending'])}",
            "# HELP leadcap_webhook_due Deliveries due now (not waiting for a retry).",
            "# TYPE leadcap_webhook_due gauge",
            f"leadcap_webhook_due {int(figures['due'])}",
            "# HELP leadcap_webhook_oldest_due_seconds How long the longest-waiting due delivery has waited.",
            "# TYPE leadcap_webhook_oldest_due_seconds gauge",
            f"leadcap_webhook_oldest_due_seconds {figures['oldest_due_s']:.3f}",
        ]
    return ("\n".join(lines) + "\n").encode() if lines else b""
