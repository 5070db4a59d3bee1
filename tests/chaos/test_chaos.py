"""Kill things under load and count: every 202'd submission id must be in PostgreSQL exactly once.

Run by `nox -s chaos`. Each test writes its figures to test-output/chaos/<test>.json, which
docs/reliability.md quotes.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from leadcap import keys
from leadcap.intake import shard
from leadcap.intake.submission import encode_task
from leadcap.stores.redis import Redis
from tests import servers
from tests.chaos.platform import Burst, Platform

pytestmark = pytest.mark.chaos
OUT = servers.ROOT / "test-output" / "chaos"


def report(name: str, burst: Burst, **figures: object) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    data = {"sent": sum(burst.statuses.values()) + burst.errors, "accepted_202": len(burst.accepted),
            "statuses": burst.statuses, "transport_errors": burst.errors, **figures}  # fmt: skip
    (OUT / f"{name}.json").write_text(json.dumps(data, indent=2))
    print(name, json.dumps(data))


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    running = Platform(tmp_path)
    try:
        yield running
    finally:
        running.stop()


async def test_worker_killed_mid_burst_is_reclaimed_without_new_traffic(platform: Platform) -> None:
    await platform.start(workers=2)
    load = platform.load(3000)
    await load.until_accepted(500)  # the workers are draining: a sixth of the burst is queued
    victim = platform.workers[0]
    assert victim.popen
    victim.popen.send_signal(signal.SIGKILL)
    burst = await load
    killed_at = time.monotonic()
    recovered_s, over = await platform.wait_all_persisted(burst, timeout=60)
    report("worker_sigkill", burst, rows_found=len(burst.accepted), double_counted=over,
           recover_s_after_burst=round(recovered_s, 1), reclaim_idle_s=3)  # fmt: skip
    assert burst.statuses.get(202, 0) == 3000 and over == 0
    assert recovered_s < 3 + 3 / 4 + 10  # reclaim idle + one sweep + a drain margin
    assert time.monotonic() - killed_at < 60


async def test_every_worker_killed_then_one_restarted_a_minute_later(platform: Platform) -> None:
    await platform.start(workers=2)
    load = platform.load(2000)
    await load.until_accepted(400)
    for worker in platform.workers:
        assert worker.popen
        worker.popen.send_signal(signal.SIGKILL)
    burst = await load
    pending = await platform.stream_length()
    # The minute is the fault itself, not a wait for something: the entries sit pending to dead
    # consumers for twenty reclaim periods before any worker exists to take them.
    await asyncio.sleep(60)
    platform.add_worker()
    recovered_s, over = await platform.wait_all_persisted(burst, timeout=90)
    report("all_workers_killed", burst, left_in_stream=pending, double_counted=over,
           recover_s_after_restart=round(recovered_s, 1))  # fmt: skip
    assert burst.statuses.get(202, 0) == 2000 and over == 0 and pending > 0


async def test_redis_killed_and_restarted_from_its_aof(platform: Platform) -> None:
    await platform.start(workers=1)
    load = platform.load(3000, concurrency=16)
    queued = await load.until_accepted(500)
    platform.kill_store("redis")
    await load.until_accepted(queued + 300)  # with Redis dead, these can only be direct
    platform.start_store("redis")  # same port, same folder: it replays its append-only file
    burst = await load
    recovered_s, over = await platform.wait_all_persisted(burst, timeout=90)
    direct = platform.metric('leadcap_leads_total{outcome="accepted_direct"')
    report("redis_sigkill", burst, double_counted=over, recover_s_after_burst=round(recovered_s, 1),
           accepted_direct_while_redis_down=int(direct))  # fmt: skip
    assert set(burst.statuses) <= {202, 503} and over == 0
    assert burst.statuses.get(202, 0) >= 2500  # the direct path kept answering while Redis was down
    assert direct > 0  # and it was really used: the kill landed mid-burst


def on_second_shard(phone: str) -> bool:
    return shard.of(phone, 2) == 1


async def test_one_of_two_shards_killed_under_load_loses_nothing(platform: Platform) -> None:
    await platform.start(workers=2, shards=2)
    load = platform.load(3000, concurrency=16)
    await load.until_accepted(500)
    # Both servers carried part of the intake before the kill: each stream took entries.
    queued_per_shard = [await platform.entries_added(name) for name in ("redis", "redis-1")]
    platform.kill_store("redis-1")  # its phones take the direct path; the other shard goes on
    killed_at = load.accepted(on_second_shard)
    await load.until_accepted(killed_at + 150, phones=on_second_shard)  # answered without it
    platform.start_store("redis-1")  # what it had queued comes back from its append-only file
    burst = await load
    recovered_s, over = await platform.wait_all_persisted(burst, timeout=90)
    direct = platform.metric('leadcap_leads_total{outcome="accepted_direct"')
    per_shard = [sum(shard.of(p, 2) == i for p in burst.accepted.values()) for i in range(2)]
    report("shard_sigkill", burst, double_counted=over, recover_s_after_burst=round(recovered_s, 1),
           queued_per_shard_before_kill=queued_per_shard, accepted_per_shard=per_shard,
           accepted_direct_while_shard_down=int(direct))  # fmt: skip
    assert burst.statuses == {202: 3000} and burst.errors == 0 and over == 0
    assert all(queued_per_shard), f"a shard took no part of the intake: {queued_per_shard}"
    # Its phones were answered all the same: of those 150, at most one per client (16) was in
    # flight, queued on it, when it died.
    assert direct >= 150 - 16


async def test_postgres_stopped_while_3000_submissions_queue(platform: Platform) -> None:
    await platform.start(workers=2)
    load = platform.load(6000, concurrency=16, pace_s=0.01)
    queued = await load.until_accepted(500)
    platform.stores["database"].stop()
    stopped = time.monotonic()
    # Answered from the queue alone: the outage is counted in submissions, and lasts several of
    # the workers' write retries (4-6 s on this machine: down_s in the report).
    await load.until_accepted(queued + 3000)
    down_s = time.monotonic() - stopped
    platform.start_store("database")
    burst = await load
    recovered_s, over = await platform.wait_all_persisted(burst, timeout=90)
    report("postgres_down", burst, double_counted=over, down_s=round(down_s, 1),
           recover_s_after_burst=round(recovered_s, 1))  # fmt: skip
    assert burst.statuses == {202: 6000} and over == 0


async def test_mongo_down_under_load(platform: Platform) -> None:
    await platform.start(workers=1)
    platform.stores["mongo"].stop()
    burst = await platform.burst(3000)
    recovered_s, over = await platform.wait_all_persisted(burst, timeout=60)
    report("mongo_down", burst, double_counted=over, recover_s_after_burst=round(recovered_s, 1))
    assert burst.statuses == {202: 3000} and over == 0


async def test_web_process_sigterm_under_load(platform: Platform) -> None:
    await platform.start(workers=1, web_workers=1)
    load = platform.load(3000, concurrency=16)
    await load.until_accepted(500)
    assert platform.server and platform.server.process.popen
    platform.server.process.popen.send_signal(signal.SIGTERM)
    burst = await load
    code = platform.server.process.popen.wait(30)
    recovered_s, over = await platform.wait_all_persisted(burst, timeout=60)
    report("web_sigterm", burst, exit_status=code, double_counted=over, recover_s=round(recovered_s, 1))
    assert code == 0 and over == 0 and len(burst.accepted) > 0
    assert set(burst.statuses) <= {202, 503}  # refused connections after the stop are transport errors


async def test_redelivery_after_commit_before_ack_counts_once(platform: Platform) -> None:
    await platform.start(workers=2)
    burst = await platform.burst(500)
    await platform.wait_all_persisted(burst, timeout=30)
    redis = Redis.open(platform.stores["redis"].url)
    try:
        for submission_id, phone in burst.accepted.items():
            message = {"id": submission_id, "phone": phone, "region": "IR", "source": None, "utm": {}}
            await redis.client_for_tests().xadd(keys.LEAD_STREAM, {"data": encode_task(message)})
        deadline = time.monotonic() + 30
        while await redis.client_for_tests().xlen(keys.LEAD_STREAM) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert await redis.client_for_tests().xlen(keys.LEAD_STREAM) == 0
    finally:
        await redis.close()
    _, over = await platform.wait_all_persisted(burst, timeout=10)
    report("redelivered_after_commit", burst, redelivered=len(burst.accepted), double_counted=over)
    assert over == 0


async def test_stream_memory_stays_bounded_over_100k(platform: Platform) -> None:
    # Request logs off (buffer 0: dropped and counted): this run is about the stream, and the
    # embedded MongoDB-wire server would otherwise take most of the two cores.
    await platform.start(workers=2, LEADCAP_REQUEST_LOG_BUFFER="0")
    redis = Redis.open(platform.stores["redis"].url)
    try:
        baseline = int((await redis.client_for_tests().info("memory"))["used_memory"])
        peak_len = 0
        peak_mem = baseline
        total = Burst()
        for _ in range(20):
            part = await platform.burst(5000, concurrency=48)
            total.accepted.update(part.accepted)
            for status, n in part.statuses.items():
                total.statuses[status] = total.statuses.get(status, 0) + n
            peak_len = max(peak_len, int(await redis.client_for_tests().xlen(keys.LEAD_STREAM)))
            peak_mem = max(peak_mem, int((await redis.client_for_tests().info("memory"))["used_memory"]))
        recovered_s, over = await platform.wait_all_persisted(total, timeout=180)
        final_len = int(await redis.client_for_tests().xlen(keys.LEAD_STREAM))
        stream_mem = int(await redis.client_for_tests().memory_usage(keys.LEAD_STREAM) or 0)
    finally:
        await redis.close()
    report("stream_100k", total, peak_stream_len=peak_len, final_stream_len=final_len,
           stream_memory_bytes_after=stream_mem, redis_used_memory_baseline=baseline,
           redis_used_memory_peak_sampled=peak_mem, double_counted=over,
           drain_after_last_burst_s=round(recovered_s, 1))  # fmt: skip
    assert total.statuses == {202: 100_000} and over == 0
    assert final_len == 0 and stream_mem < 64 * 1024


async def test_five_thousand_visitors_behind_ten_carrier_addresses_in_a_minute(platform: Platform) -> None:
    """Issue 24: the contract's limits as shipped (10/minute per visitor, 600/minute shared per
    address): 5,000 phones behind 10 addresses (500 each), each loading the page and leaving its
    number within a minute, all get a 202, and every one of them is in PostgreSQL."""
    await platform.start(workers=2, LEADCAP_RATE_LIMIT="10/minute", LEADCAP_SHARED_IP_LIMIT="600/minute")
    started = time.monotonic()
    burst = await platform.visitor_burst(5000, addresses=10)
    took = time.monotonic() - started
    persisted_s, over = await platform.wait_all_persisted(burst, timeout=120)
    report("visitors_behind_carrier_addresses", burst, addresses=10, burst_s=round(took, 1),
           rows_found=len(burst.accepted), double_counted=over,
           persisted_s_after_burst=round(persisted_s, 1))  # fmt: skip
    assert burst.statuses == {202: 5000} and burst.errors == 0 and over == 0
    assert took < 60, f"the burst took {took:.0f} s: not within the minute the limits count"
