"""Valid-looking PII values for tests: mainland mobiles, resident ID numbers, Luhn-valid card-like numbers,
e-mail addresses. Each kind is checksum-valid where the real thing is, so a masker has to take it for PII.

Plain functions of a `random.Random` (for fixed example sets) and hypothesis strategies built on them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta

from hypothesis import strategies as st

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def phone(rng: random.Random) -> str:
    return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


def id_number(rng: random.Random) -> str:
    region = str(rng.randint(110000, 659000))
    born = date(1950, 1, 1) + timedelta(days=rng.randint(0, 365 * 50))
    body = region + born.strftime("%Y%m%d") + f"{rng.randint(0, 999):03d}"
    return body + _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


def luhn_16(rng: random.Random) -> str:
    """16 digits starting 62 (UnionPay-like) with a valid Luhn check digit: an order number or a card."""
    body = "62" + "".join(rng.choice("0123456789") for _ in range(13))
    for check in "0123456789":
        if _luhn_ok(body + check):
            return body + check
    raise AssertionError("unreachable: one check digit always fits")


def email(rng: random.Random) -> str:
    local = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 10)))
    return f"{local}{rng.randint(1, 999)}@example.com"


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


KINDS: dict[str, Callable[[random.Random], str]] = {
    "phone": phone, "id_number": id_number, "luhn_16": luhn_16, "email": email,
}


def samples(kind: str, count: int, seed: int = 0) -> list[str]:
    """``count`` distinct values of one kind, the same for the same seed."""
    rng = random.Random(f"{kind}-{seed}")
    values: list[str] = []
    while len(values) < count:
        value = KINDS[kind](rng)
        if value not in values:
            values.append(value)
    return values


def pii_values(kinds: tuple[str, ...] = tuple(KINDS)) -> st.SearchStrategy[str]:
    """Any one value of the given kinds."""
    return st.sampled_from(kinds).flatmap(
        lambda kind: st.randoms(use_true_random=False).map(KINDS[kind]))
