"""The review statistics against values worked out by hand (and scipy / scikit-learn)."""

from __future__ import annotations

import math

import pytest
from scipy import stats
from sklearn.metrics import cohen_kappa_score

from labeling import review_stats as rs


def test_an_assessment_is_reasonable_only_with_needed_and_without_unneeded_details() -> None:
    assert rs.is_reasonable(True, False)
    assert not rs.is_reasonable(True, True)
    assert not rs.is_reasonable(False, False)
    assert not rs.is_reasonable(False, True)


def test_quadrants_combine_reasonability_and_accuracy() -> None:
    assert rs.quadrant(reasonable=True, accurate=True) == "RA"
    assert rs.quadrant(reasonable=False, accurate=True) == "UA"
    assert rs.quadrant(reasonable=True, accurate=False) == "RIA"
    assert rs.quadrant(reasonable=False, accurate=False) == "UIA"


def test_matrix_rates_follow_the_definitions() -> None:
    rates = rs.matrix_rates({"RA": 3, "UA": 1, "RIA": 2, "UIA": 4})
    assert rates == {"total": 10, "ra_performance": 0.3, "attention_accuracy": 0.5}


def test_an_empty_matrix_has_no_rates() -> None:
    assert rs.matrix_rates({}) == {"total": 0, "ra_performance": None, "attention_accuracy": None}


def test_majority_vote_picks_the_most_common_answer() -> None:
    assert rs.majority_vote([True, False, True]) is True
    assert rs.majority_vote(["x"]) == "x"


def test_majority_vote_decides_nothing_on_a_tie_or_without_votes() -> None:
    assert rs.majority_vote([True, False]) is None
    assert rs.majority_vote([]) is None


def test_cohen_kappa_matches_a_hand_computed_value() -> None:
    # Observed agreement 4/6, chance agreement 0.5*0.5 + 0.5*0.5 = 0.5: (2/3 - 1/2) / (1/2).
    a = [1, 1, 0, 0, 1, 0]
    b = [1, 0, 0, 0, 1, 1]
    assert rs.cohen_kappa(a, b) == pytest.approx(1 / 3)


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_kappa_equals_scikit_learn(weights: str | None) -> None:
    a = [1, 2, 3, 4, 5, 3, 2, 4, 5, 1, 3]
    b = [1, 3, 3, 5, 4, 2, 2, 4, 5, 2, 1]
    expected = cohen_kappa_score(a, b, weights=weights)
    got = rs.cohen_kappa(a, b, categories=[1, 2, 3, 4, 5], weights=weights)
    assert got == pytest.approx(expected)


def test_cohen_kappa_is_undefined_when_both_raters_always_agree_on_one_answer() -> None:
    assert rs.cohen_kappa([True, True], [True, True]) is None


def test_fleiss_kappa_matches_the_textbook_example() -> None:
    # Fleiss (1971) as tabulated on Wikipedia: 10 items, 14 raters, 5 categories, kappa 0.210.
    table = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    assert rs.fleiss_kappa(table) == pytest.approx(0.20993, abs=1e-4)


def test_fleiss_kappa_of_a_small_table_worked_out_by_hand() -> None:
    # P_i = 1, 1, 0 -> P = 2/3; shares 0.5, 0.5 -> Pe = 0.5; kappa = (2/3 - 1/2) / (1/2).
    assert rs.fleiss_kappa([[2, 0], [0, 2], [1, 1]]) == pytest.approx(1 / 3)


def test_fleiss_kappa_refuses_items_with_different_numbers_of_raters() -> None:
    with pytest.raises(ValueError, match="same number"):
        rs.fleiss_kappa([[2, 0], [1, 2]])


def test_fleiss_over_complete_uses_only_items_every_rater_answered() -> None:
    answers = {
        "ann": {1: True, 2: False, 3: True, 4: True},
        "bob": {1: True, 2: True, 3: True},
        "cyd": {1: True, 2: False, 3: False},
    }
    result = rs.fleiss_over_complete(answers, [True, False])
    table = rs.fleiss_table([[True] * 3, [False, True, False], [True, True, False]], [True, False])
    assert result == {"kappa": rs.fleiss_kappa(table), "items": 3, "raters": 3}


def test_pairwise_cohen_pairs_raters_on_shared_items() -> None:
    answers = {"ann": {1: 1, 2: 0, 3: 1}, "bob": {1: 1, 2: 1, 4: 0}}
    (pair,) = rs.pairwise_cohen(answers, categories=[0, 1])
    assert (pair["a"], pair["b"], pair["n"]) == ("ann", "bob", 2)
    assert pair["kappa"] == pytest.approx(rs.cohen_kappa([1, 0], [1, 1], categories=[0, 1]))


def test_describe_gives_mean_sample_sd_and_median() -> None:
    assert rs.describe([1, 2, 3, 4]) == {
        "n": 4,
        "mean": 2.5,
        "sd": pytest.approx(math.sqrt(5 / 3)),
        "median": 2.5,
    }
    assert rs.describe([4])["sd"] is None


# Ratings with ties in three conditions. Pooled sorted: 1 1 2 2 3 3 3 4 4 (N = 9); average ranks
# 1 -> 1.5, 2 -> 3.5, 3 -> 6, 4 -> 8.5. Rank sums A 6.5, B 15.5, C 23; ties t^3 - t: 6+6+24+6=42.
TIED = {"A": [1, 1, 2], "B": [2, 3, 3], "C": [3, 4, 4]}


def test_kruskal_wallis_matches_the_hand_computed_h() -> None:
    # H = (12 / (9 * 10) * (6.5^2 + 15.5^2 + 23^2) / 3 - 3 * 10) / (1 - 42 / (9^3 - 9)).
    h = (12 / 90 * (6.5**2 + 15.5**2 + 23**2) / 3 - 30) / (1 - 42 / 720)
    result = rs.kruskal_wallis(TIED)
    assert result["h"] == pytest.approx(h)
    assert result["h"] == pytest.approx(6.44248, abs=1e-5)
    assert result["df"] == 2
    assert result["p"] == pytest.approx(stats.chi2.sf(h, 2))


def test_kruskal_wallis_is_undefined_when_every_rating_is_the_same() -> None:
    result = rs.kruskal_wallis({"A": [3, 3], "B": [3, 3]})
    assert result["h"] is None and result["p"] is None
    assert "same" in result["reason"]


def test_kruskal_wallis_needs_two_conditions_with_ratings() -> None:
    assert rs.kruskal_wallis({"A": [1, 2], "B": []})["h"] is None


def test_dunn_without_ties_matches_the_hand_computed_z() -> None:
    # Mean ranks 2 and 5; s2 = 6 * 7 / 12 = 3.5; SE = sqrt(3.5 * (1/3 + 1/3)).
    result = rs.dunn_test({"A": [1, 2, 3], "B": [4, 5, 6]})
    (pair,) = result["pairs"]
    z = (2 - 5) / math.sqrt(3.5 * 2 / 3)
    assert pair["z"] == pytest.approx(z)
    assert pair["z"] == pytest.approx(-1.963961, abs=1e-6)
    assert pair["p"] == pytest.approx(0.049535, abs=1e-6)
    assert pair["p_adjusted"] == pytest.approx(pair["p"])


def test_dunn_with_ties_uses_the_tie_corrected_variance_and_holm() -> None:
    variance = 9 * 10 / 12 - 42 / (12 * 8)  # 7.0625
    se = math.sqrt(variance * (1 / 3 + 1 / 3))
    z = {
        ("A", "B"): (6.5 / 3 - 15.5 / 3) / se,
        ("A", "C"): (6.5 / 3 - 23 / 3) / se,
        ("B", "C"): (15.5 / 3 - 23 / 3) / se,
    }
    p = {pair: 2 * stats.norm.sf(abs(value)) for pair, value in z.items()}
    # Holm, m = 3: AC (smallest) x3, then AB x2, then BC x1, each at least the previous one.
    holm_ac = 3 * p[("A", "C")]
    holm_ab = max(holm_ac, 2 * p[("A", "B")])
    holm_bc = max(holm_ab, p[("B", "C")])
    result = rs.dunn_test(TIED, correction="holm")
    got = {(row["a"], row["b"]): row for row in result["pairs"]}
    assert result["correction"] == "holm"
    for pair in z:
        assert got[pair]["z"] == pytest.approx(z[pair])
        assert got[pair]["p"] == pytest.approx(p[pair])
    assert got[("A", "C")]["p_adjusted"] == pytest.approx(holm_ac)
    assert got[("A", "B")]["p_adjusted"] == pytest.approx(holm_ab)
    assert got[("B", "C")]["p_adjusted"] == pytest.approx(holm_bc)
    assert got[("A", "C")]["z"] == pytest.approx(-2.534715, abs=1e-6)


def test_dunn_with_bonferroni_multiplies_by_the_number_of_pairs() -> None:
    result = rs.dunn_test(TIED, correction="bonferroni")
    for row in result["pairs"]:
        assert row["p_adjusted"] == pytest.approx(min(1.0, 3 * row["p"]))


def test_dunn_is_undefined_when_every_value_is_the_same() -> None:
    (pair,) = rs.dunn_test({"A": [2, 2], "B": [2, 2]})["pairs"]
    assert pair["z"] is None and pair["p_adjusted"] is None


def test_holm_adjustment_is_monotone_and_capped_at_one() -> None:
    assert rs.adjust_pvalues([0.01, 0.04, 0.03], "holm") == pytest.approx([0.03, 0.06, 0.06])
    assert rs.adjust_pvalues([0.5, 0.6], "holm") == [1.0, 1.0]


def test_an_unknown_correction_is_refused() -> None:
    with pytest.raises(ValueError, match="correction"):
        rs.dunn_test(TIED, correction="sidak")
