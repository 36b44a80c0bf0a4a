"""Money is an int number of fen (1/100 yuan) everywhere. No floats, ever."""

from __future__ import annotations

from collections.abc import Sequence

MAX_FEN = 100_000_000_00  # 100 million yuan: the largest amount any field accepts


def apportion(amount: int, weights: Sequence[int]) -> list[int]:
    """Split `amount` fen over `weights` so the shares sum to exactly `amount`.

    Largest-remainder rule: each share is floor(amount * w / total); the fen left over go one
    each to the largest remainders, ties to the earlier position. Deterministic, and when
    amount <= sum(weights) no share exceeds its weight (a discount never pushes a line below
    zero). All-zero weights split evenly.
    """
    if amount < 0:
        raise ValueError("amount must be >= 0")
    if not weights:
        if amount:
            raise ValueError("cannot apportion a non-zero amount over no weights")
        return []
    if min(weights) < 0:
        raise ValueError("weights must be >= 0")
    if len(weights) == 1:
        return [amount]
    total = sum(weights)
    if total == 0:
        weights, total = [1] * len(weights), len(weights)
    if amount == 0:
        return [0] * len(weights)
    scaled = [amount * weight for weight in weights]
    shares = [part // total for part in scaled]
    left = amount - sum(shares)
    if left:
        # the largest remainders first; sorting is stable (reverse too), so ties go to the earlier position
        remainders = [part % total for part in scaled]
        for index in sorted(range(len(weights)), key=remainders.__getitem__, reverse=True)[:left]:
            shares[index] += 1
    return shares


def format_yuan(fen: int) -> str:
    """1234 -> '12.34', -5 -> '-0.05'."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan}.{cents:02d}"


def parse_yuan(text: str) -> int:
    """'12.34' -> 1234. Refuses more than two decimals rather than rounding."""
    text = text.strip()
    sign = -1 if text.startswith("-") else 1
    whole, _, frac = text.lstrip("+-").partition(".")
    if not whole.isdigit() or (frac and (not frac.isdigit() or len(frac) > 2)):
        raise ValueError(f"not an amount in yuan: {text!r}")
    return sign * (int(whole) * 100 + int(frac.ljust(2, "0") or 0))
