"""Which Redis server (shard) a key lives on, when LEADCAP_REDIS_URL lists several.

A phone's dedupe key and its queue entry live on `of(phone)`; a client's rate-limit windows on
`of(its address bucket)`. Jump consistent hashing (Lamport & Veach, 2014) over a 64-bit BLAKE2b
of the key: stable across processes, hosts and Python versions (unlike hash()), and when a
server is appended to the list only about 1/N of the keys move to it. Removing or reordering
servers moves most keys: their dedupe windows and rate limits restart on the new server (a
repeat inside the window becomes a second submission of the same lead, never a lost one).
"""

from __future__ import annotations

import hashlib

_MASK = (1 << 64) - 1


def of(key: str, shards: int) -> int:
    """The index (0 ≤ i < shards) of the shard that owns `key`; 0 with one shard, at no cost."""
    if shards <= 1:
        return 0
    state = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")
    chosen, candidate = -1, 0
    while candidate < shards:
        chosen = candidate
        state = (state * 2862933555777941757 + 1) & _MASK
        candidate = int((chosen + 1) * ((1 << 31) / ((state >> 33) + 1)))
    return chosen


def name(index: int) -> str:
    """A Redis server's name in health checks and logs: `redis` for the first, `redis-1`, … after."""
    return "redis" if index == 0 else f"redis-{index}"
