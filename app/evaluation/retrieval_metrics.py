"""Pass@k as the cookbook defines it, and MRR."""

from __future__ import annotations

from collections.abc import Sequence
from statistics import fmean


def pass_at_k(ranked: Sequence[object], golden: set | frozenset, k: int) -> float:
    """Share of a query's golden chunks found in its top k."""
    if not golden:
        return 0.0
    return len(set(ranked[:k]) & set(golden)) / len(golden)


def reciprocal_rank(ranked: Sequence[object], golden: set | frozenset) -> float:
    for rank, item in enumerate(ranked, start=1):
        if item in golden:
            return 1.0 / rank
    return 0.0


def summarize(
    runs: list[tuple[Sequence[object], frozenset]], ks: Sequence[int] = (5, 10, 20)
) -> dict[str, float]:
    out = {f"Pass@{k}": fmean(pass_at_k(r, g, k) for r, g in runs) for k in ks}
    out["MRR"] = fmean(reciprocal_rank(r, g) for r, g in runs)
    return out
