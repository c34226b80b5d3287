"""Named random streams and the few distributions the generator draws from.

Every part of the world draws from its own generator, seeded from the scenario seed and a stable
name. Adding a defect or a feed therefore never shifts the draws of another part, and the same
seed gives the same bytes on every run and machine (`hash()` of a str would change per process).
"""

from __future__ import annotations

import bisect
import hashlib
import math
import random
from collections.abc import Sequence
from itertools import accumulate

_MASK = (1 << 64) - 1


def stream(seed: int, *names: object) -> random.Random:
    """A generator that depends only on the seed and the names, never on call order elsewhere."""
    label = "/".join([str(seed), *(str(n) for n in names)])
    digest = hashlib.sha256(label.encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def mix(*values: int) -> int:
    """A stable 64-bit hash of integers (splitmix64 finaliser).

    For attributes that must come out the same wherever an entity is rendered again (a line's
    activation time in the snapshot and in its later deprovisioning row) without storing them.
    """
    x = 0x9E3779B97F4A7C15
    for value in values:
        x = (x ^ (value & _MASK)) * 0xBF58476D1CE4E5B9 & _MASK
        x = (x ^ (x >> 27)) * 0x94D049BB133111EB & _MASK
        x ^= x >> 31
    return x


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's product method for small means, a rounded normal above 30.

    Daily CDR counts per line are drawn by the hundred thousand; above 30 the normal is fast and
    its difference from a Poisson is invisible in the data.
    """
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit = math.exp(-mean)
    count = 0
    product = rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def cumulative(weights: Sequence[float]) -> list[float]:
    """Normalised running totals for `pick`; the last one is exactly 1.0 so no draw falls off."""
    total = float(sum(weights))
    running = [w / total for w in accumulate(weights)]
    running[-1] = 1.0
    return running


def pick(rng: random.Random, running: list[float]) -> int:
    """Index drawn with the weights behind `running` (one draw, a bisect: cheap in hot loops)."""
    return bisect.bisect_right(running, rng.random())
