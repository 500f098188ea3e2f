"""Statistics of reviews and rating studies: the reasonability matrix, agreement, rank tests.

Pure functions over plain Python values (numpy and scipy inside): no Django, no ORM, so every
number can be checked against a value worked out by hand.

Definitions (METHODS.md section 5, Gao et al. "Aligning Eyes between Humans and Deep Neural
Network through Interactive Attention Alignment"):

- An assessment is *reasonable* iff Q1 ("the highlighted area contains the details needed to
  decide the class") is yes and Q2 ("it contains details not needed") is no.
- Quadrants: RA (reasonable, accurate prediction), UA (unreasonable, accurate), RIA (reasonable,
  inaccurate), UIA (unreasonable, inaccurate). *RA performance* = RA / all; *attention accuracy*
  = (RA + RIA) / all.
- Several reviewers: the majority vote decides an image; a tie decides nothing (the image goes to
  adjudication). Agreement is Cohen's kappa per pair of reviewers (on the items both answered)
  and Fleiss' kappa over the items every reviewer answered (Fleiss needs the same number of
  raters per item).
- Ratings are compared across conditions with the Kruskal-Wallis H test (scipy; tie-corrected)
  and Dunn's post-hoc test (Dunn 1964, with the tie correction of the pooled rank variance),
  two-sided normal p-values adjusted by Holm (default) or Bonferroni. Every rating is one
  observation, as in the papers' analyses (ratings of one reviewer are not independent; the
  report says so).

Undefined statistics (a kappa whose chance agreement is 1, a test on identical values) are
``None``, never a made-up number.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np
from scipy import stats

RA, UA, RIA, UIA = "RA", "UA", "RIA", "UIA"
QUADRANTS = (RA, UA, RIA, UIA)
CORRECTIONS = ("holm", "bonferroni")
KAPPA_WEIGHTS = (None, "linear", "quadratic")

# The GRADIA training code names the quadrants this way (modeling.ml.training).
GRADIA_QUADRANT_KEYS = {
    RA: "reasonable_accurate",
    UA: "unreasonable_accurate",
    RIA: "reasonable_inaccurate",
    UIA: "unreasonable_inaccurate",
}


def is_reasonable(q1_needed: bool, q2_unneeded: bool) -> bool:
    """Reasonable iff the map holds the needed details (Q1 yes) and no unneeded ones (Q2 no)."""
    return bool(q1_needed) and not bool(q2_unneeded)


def quadrant(*, reasonable: bool, accurate: bool) -> str:
    """The reasonability-matrix cell of one decided image."""
    if reasonable:
        return RA if accurate else RIA
    return UA if accurate else UIA


def matrix_rates(counts: Mapping[str, int]) -> dict[str, Any]:
    """Totals and rates of a matrix ``{"RA": n, "UA": n, "RIA": n, "UIA": n}``.

    Returns:
        ``{"total", "ra_performance" (RA / total), "attention_accuracy" ((RA + RIA) / total)}``;
        the rates are None for an empty matrix.
    """
    total = sum(int(counts.get(q, 0)) for q in QUADRANTS)
    if total == 0:
        return {"total": 0, "ra_performance": None, "attention_accuracy": None}
    return {
        "total": total,
        "ra_performance": counts.get(RA, 0) / total,
        "attention_accuracy": (counts.get(RA, 0) + counts.get(RIA, 0)) / total,
    }


def majority_vote(votes: Sequence[Hashable]) -> Hashable | None:
    """The value given by more voters than any other; None for no votes or a tie at the top."""
    if not votes:
        return None
    ranked = Counter(votes).most_common()
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None
    return ranked[0][0]


def _weight_matrix(k: int, weights: str | None) -> np.ndarray:
    i, j = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    if weights is None:
        return (i != j).astype(float)
    if weights == "linear":
        return np.abs(i - j).astype(float)
    if weights == "quadratic":
        return ((i - j) ** 2).astype(float)
    raise ValueError(f"weights must be one of None, 'linear', 'quadratic', not {weights!r}")


def cohen_kappa(
    a: Sequence[Hashable],
    b: Sequence[Hashable],
    *,
    categories: Sequence[Hashable] | None = None,
    weights: str | None = None,
) -> float | None:
    """Cohen's kappa of two raters over the same items: ``1 - sum(w O) / sum(w E)``.

    ``O`` is the observed joint distribution, ``E`` the product of the marginals, ``w`` the
    disagreement weights (0/1 unweighted; ``|i - j|`` linear, ``(i - j)^2`` quadratic over the
    order of ``categories``, for ordinal answers such as Likert levels). Equals scikit-learn's
    ``cohen_kappa_score``.

    Returns:
        kappa, or None when undefined (no items, or chance disagreement 0: both raters always
        gave one and the same answer).
    """
    if len(a) != len(b):
        raise ValueError(f"the raters answered {len(a)} and {len(b)} items; pair them first")
    if not a:
        return None
    cats = list(categories) if categories is not None else sorted(set(a) | set(b), key=str)
    index = {c: i for i, c in enumerate(cats)}
    observed = np.zeros((len(cats), len(cats)))
    for x, y in zip(a, b, strict=True):
        observed[index[x], index[y]] += 1
    observed /= observed.sum()
    expected = np.outer(observed.sum(1), observed.sum(0))
    w = _weight_matrix(len(cats), weights)
    chance = float((w * expected).sum())
    if chance <= 1e-12:
        return None
    return 1.0 - float((w * observed).sum()) / chance


def fleiss_table(
    ratings: Sequence[Sequence[Hashable]], categories: Sequence[Hashable]
) -> list[list[int]]:
    """Per item, how many raters chose each category (rows: items, columns: ``categories``)."""
    index = {c: i for i, c in enumerate(categories)}
    table = []
    for item in ratings:
        row = [0] * len(categories)
        for answer in item:
            row[index[answer]] += 1
        table.append(row)
    return table


def fleiss_kappa(table: Sequence[Sequence[int]]) -> float | None:
    """Fleiss' kappa of an items x categories count table with the same number of raters per
    item (at least two): ``(P - Pe) / (1 - Pe)``.

    ``P`` is the mean over items of ``(sum_j n_ij^2 - n) / (n (n - 1))``; ``Pe = sum_j p_j^2``
    with ``p_j`` the share of all answers in category ``j``.

    Returns:
        kappa, or None when undefined (no items, or every answer in one category).

    Raises:
        ValueError: items with different numbers of raters, or fewer than two.
    """
    counts = np.asarray(table, dtype=float)
    if counts.size == 0 or counts.shape[0] == 0:
        return None
    raters = counts.sum(1)
    n = raters[0]
    if not np.all(raters == n) or n < 2:
        raise ValueError("Fleiss' kappa needs the same number (>= 2) of raters on every item")
    per_item = ((counts**2).sum(1) - n) / (n * (n - 1))
    p_bar = per_item.mean()
    shares = counts.sum(0) / counts.sum()
    p_e = float((shares**2).sum())
    if p_e >= 1.0 - 1e-12:
        return None
    return float((p_bar - p_e) / (1.0 - p_e))


def pairwise_cohen(
    answers: Mapping[str, Mapping[Hashable, Hashable]],
    *,
    categories: Sequence[Hashable] | None = None,
    weights: str | None = None,
) -> list[dict[str, Any]]:
    """Cohen's kappa of every pair of raters on the items both answered.

    Args:
        answers: ``{rater: {item: answer}}``.

    Returns:
        ``[{"a", "b", "n", "kappa"}]`` for each pair of raters in name order.
    """
    rows = []
    for first, second in combinations(sorted(answers), 2):
        shared = sorted(set(answers[first]) & set(answers[second]), key=str)
        kappa = cohen_kappa(
            [answers[first][i] for i in shared],
            [answers[second][i] for i in shared],
            categories=categories,
            weights=weights,
        )
        rows.append({"a": first, "b": second, "n": len(shared), "kappa": kappa})
    return rows


def fleiss_over_complete(
    answers: Mapping[str, Mapping[Hashable, Hashable]], categories: Sequence[Hashable]
) -> dict[str, Any]:
    """Fleiss' kappa over the items that every rater answered.

    Returns:
        ``{"kappa", "items", "raters"}`` (kappa None with fewer than two raters or no item).
    """
    raters = sorted(answers)
    if len(raters) < 2:
        return {"kappa": None, "items": 0, "raters": len(raters)}
    common = set.intersection(*(set(answers[r]) for r in raters))
    items = sorted(common, key=str)
    table = fleiss_table([[answers[r][i] for r in raters] for i in items], categories)
    kappa = fleiss_kappa(table) if items else None
    return {"kappa": kappa, "items": len(items), "raters": len(raters)}


def describe(values: Sequence[float]) -> dict[str, Any]:
    """``{"n", "mean", "sd" (sample, ddof 1), "median"}``; None where undefined."""
    data = np.asarray(values, dtype=float)
    n = int(data.size)
    if n == 0:
        return {"n": 0, "mean": None, "sd": None, "median": None}
    return {
        "n": n,
        "mean": float(data.mean()),
        "sd": float(data.std(ddof=1)) if n > 1 else None,
        "median": float(np.median(data)),
    }


def kruskal_wallis(groups: Mapping[str, Sequence[float]]) -> dict[str, Any]:
    """Kruskal-Wallis H across groups (scipy, tie-corrected; chi-squared p with k - 1 df).

    Empty groups are left out. Returns ``{"h", "df", "p", "n", "groups", "reason"}``; ``h`` and
    ``p`` are None (with ``reason``) when fewer than two groups have values or every value is
    the same.
    """
    kept = {name: list(map(float, v)) for name, v in groups.items() if len(v)}
    n = sum(len(v) for v in kept.values())
    result: dict[str, Any] = {"h": None, "df": len(kept) - 1, "p": None, "n": n}
    result["groups"] = list(kept)
    if len(kept) < 2:
        return {**result, "df": None, "reason": "needs at least two conditions with ratings"}
    if len({x for v in kept.values() for x in v}) < 2:
        return {**result, "reason": "every rating is the same value"}
    h, p = stats.kruskal(*kept.values())
    return {**result, "h": float(h), "p": float(p), "reason": None}


def adjust_pvalues(pvalues: Sequence[float], method: str = "holm") -> list[float]:
    """Family-wise adjusted p-values, in the input order.

    Bonferroni: ``min(1, m p)``. Holm (step-down): sort ascending, ``p_(k) * (m - k + 1)``
    (k from 1), made monotone by a running maximum, capped at 1.
    """
    if method not in CORRECTIONS:
        raise ValueError(f"correction must be one of {', '.join(CORRECTIONS)}, not {method!r}")
    m = len(pvalues)
    if method == "bonferroni":
        return [min(1.0, p * m) for p in pvalues]
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def dunn_test(groups: Mapping[str, Sequence[float]], *, correction: str = "holm") -> dict[str, Any]:
    """Dunn's post-hoc test of every pair of groups (Dunn 1964) after Kruskal-Wallis.

    All values are ranked together (average ranks for ties). For groups ``i, j``:
    ``z = (Rbar_i - Rbar_j) / sqrt(s2 (1/n_i + 1/n_j))`` with
    ``s2 = N (N + 1) / 12 - sum(t^3 - t) / (12 (N - 1))`` (``t``: sizes of tied groups of
    values); two-sided ``p = 2 (1 - Phi(|z|))``, then adjusted over all pairs by ``correction``.

    Returns:
        ``{"correction", "pairs": [{"a", "b", "mean_rank_a", "mean_rank_b", "z", "p",
        "p_adjusted"}]}``; ``z`` and the p-values are None when ``s2`` is 0 (all values equal).
    """
    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {', '.join(CORRECTIONS)}, not {correction!r}")
    kept = {name: np.asarray(v, dtype=float) for name, v in groups.items() if len(v)}
    names = list(kept)
    pooled = np.concatenate(list(kept.values())) if kept else np.zeros(0)
    total = pooled.size
    ranks = stats.rankdata(pooled)  # average ranks for ties
    mean_rank: dict[str, float] = {}
    start = 0
    for name in names:
        size = kept[name].size
        mean_rank[name] = float(ranks[start : start + size].mean())
        start += size
    _, tie_sizes = np.unique(pooled, return_counts=True)
    ties = float((tie_sizes.astype(float) ** 3 - tie_sizes).sum())
    variance = total * (total + 1) / 12.0 - (ties / (12.0 * (total - 1)) if total > 1 else 0.0)
    pairs: list[dict[str, Any]] = []
    for a, b in combinations(names, 2):
        row: dict[str, Any] = {
            "a": a,
            "b": b,
            "mean_rank_a": mean_rank[a],
            "mean_rank_b": mean_rank[b],
            "z": None,
            "p": None,
            "p_adjusted": None,
        }
        if variance > 1e-12:
            se = math.sqrt(variance * (1.0 / kept[a].size + 1.0 / kept[b].size))
            z = (mean_rank[a] - mean_rank[b]) / se
            row["z"] = z
            row["p"] = float(2.0 * stats.norm.sf(abs(z)))
        pairs.append(row)
    defined = [i for i, row in enumerate(pairs) if row["p"] is not None]
    adjusted = adjust_pvalues([pairs[i]["p"] for i in defined], correction)
    for i, value in zip(defined, adjusted, strict=True):
        pairs[i]["p_adjusted"] = value
    return {"correction": correction, "pairs": pairs}
