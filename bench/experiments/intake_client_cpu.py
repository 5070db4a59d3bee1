"""The web process's client CPU per intake EVALSHA: leadcap's Redis store (whichever tree is first
on PYTHONPATH) running intake.lua N times from C concurrent tasks, CPU seconds of this process
per command. `PYTHONPATH=<tree> python intake_client_cpu.py redis://127.0.0.1:6379/14 [N] [C] [timeout]`
compares two trees' store code on the same Redis. Under `valgrind --tool=callgrind` (timeout
30), the difference between two N divided by twice their difference is instructions per command,
which a loaded machine does not move."""

import asyncio
import sys
import time

from leadcap.stores.redis import Redis

URL = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
C = int(sys.argv[3]) if len(sys.argv) > 3 else 64
TIMEOUT = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0  # longer under valgrind


async def main() -> None:
    store = Redis.open(URL, timeout=TIMEOUT)
    args = ["x", "count", "60", b"", "1000000", "1000"]

    async def one(i: int) -> None:
        for _ in range(i, N, C):
            await store.intake.run(
                ["leadcap-bench:dedupe", "leadcap-bench:stream", "leadcap-bench:rate"], args
            )

    await asyncio.gather(*(one(i) for i in range(C)))  # warm: connections and script loaded
    started = time.process_time()
    await asyncio.gather(*(one(i) for i in range(C)))
    used = time.process_time() - started
    await store.client_for_tests().delete("leadcap-bench:rate")
    await store.close()
    print(f"{used * 1e6 / N:.1f} µs of client CPU per intake EVALSHA ({N} at {C} concurrent)")


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
