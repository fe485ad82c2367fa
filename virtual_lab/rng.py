"""Seeding: every random stream derives from (scenario, seed, trainee, machine) and nothing else.

Streams are numpy PCG64 generators; values are drawn in fixed-size blocks and consumed one per simulated tick, so
the numbers depend only on simulated time, never on wall-clock timing or on how fast the line is driven.
"""
from __future__ import annotations

import hashlib

import numpy as np

BLOCK = 4096


def derive_seed(scenario: str, seed: int, trainee: str, machine: str, stream: str = "") -> int:
    key = "\x1f".join(("nia-v1", scenario, str(int(seed)), trainee, machine, stream)).encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:16], "big")


def generator(scenario: str, seed: int, trainee: str, machine: str, stream: str = "") -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(derive_seed(scenario, seed, trainee, machine, stream)))


class NormalStream:
    """Standard normal numbers handed out one at a time from pre-drawn blocks (fast in a tick loop)."""

    __slots__ = ("_gen", "_buf", "_i")

    def __init__(self, gen: np.random.Generator) -> None:
        self._gen = gen
        self._buf: list[float] = []
        self._i = 0

    def next(self) -> float:
        if self._i >= len(self._buf):
            self._buf = self._gen.standard_normal(BLOCK).tolist()
            self._i = 0
        value = self._buf[self._i]
        self._i += 1
        return value


class UniformStream(NormalStream):
    __slots__ = ()

    def next(self) -> float:
        if self._i >= len(self._buf):
            self._buf = self._gen.random(BLOCK).tolist()
            self._i = 0
        value = self._buf[self._i]
        self._i += 1
        return value
