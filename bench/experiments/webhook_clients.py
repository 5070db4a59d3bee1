"""CPU per signed webhook POST, httpx (leadcap's Sender before) against aiohttp, to a local
keep-alive receiver in another process (bench/webhooks.py's). Run:

    python bench/experiments/webhook_clients.py [--requests 3000] [--concurrency 8]

Prints CPU ms per request (this process only) and requests/s for plain httpx (what the Sender
was built on before), leadcap's Sender as it is now, and plain aiohttp; CPU per request is the
robust figure on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
import httpx
from webhooks import free_port, receiver

BODY = (
    b'{"type":"lead.created","timestamp":"2026-01-01T00:00:00+00:00",'
    b'"data":{"id":"x","phone":"+989120000000"}}'
)
HEADERS = {"content-type": "application/json", "webhook-id": "0190", "webhook-timestamp": "1",
           "webhook-signature": "v1," + "A" * 44}  # fmt: skip


async def drive(post, n: int, concurrency: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    todo = iter(range(n))

    async def worker() -> None:
        for _ in todo:
            await post()

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - wall, time.process_time() - cpu


def report(name: str, n: int, wall: float, cpu: float) -> None:
    print(f"{name:<28} {cpu * 1000 / n:.3f} ms CPU/request  {n / wall:.0f} req/s")


async def main(args: argparse.Namespace) -> None:
    port = free_port()
    ready = multiprocessing.Event()
    child = multiprocessing.Process(target=receiver, args=(port, ready), daemon=True)
    child.start()
    ready.wait(10)
    url = f"http://127.0.0.1:{port}/hook"
    try:
        async with httpx.AsyncClient(trust_env=False) as client:

            async def hx() -> None:
                r = await client.post(url, content=BODY, headers=HEADERS)
                assert r.status_code == 204

            await drive(hx, 200, args.concurrency)
            wall, cpu = await drive(hx, args.requests, args.concurrency)
            report("httpx (leadcap's before)", args.requests, wall, cpu)
        from leadcap.webhooks.sender import Sender

        sender = Sender(allow_private=True)

        async def ours() -> None:
            a = await sender.post(url, BODY, HEADERS)
            assert a.status == 204, a

        await drive(ours, 200, args.concurrency)
        wall, cpu = await drive(ours, args.requests, args.concurrency)
        report("leadcap Sender (guarded)", args.requests, wall, cpu)
        await sender.close()
        async with aiohttp.ClientSession() as session:

            async def ah() -> None:
                async with session.post(url, data=BODY, headers=HEADERS, allow_redirects=False) as r:
                    await r.read()
                    assert r.status == 204

            await drive(ah, 200, args.concurrency)
            wall, cpu = await drive(ah, args.requests, args.concurrency)
            report("aiohttp", args.requests, wall, cpu)
    finally:
        child.terminate()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    asyncio.run(main(parser.parse_args()))
