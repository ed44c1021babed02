"""compare's paired tests respect sample groups: McNemar and the sign-flip test swap whole groups
(as the bootstrap resamples whole groups), and reduce exactly to the ordinary tests when every
group is one sample. Expectations computed by hand (enumeration of the sign patterns)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from compare_fixtures import real_run, record, synthetic, tg
from trustgauge.report.compare import (
    MCNEMAR,
    MCNEMAR_GROUPS,
    SIGN_FLIP,
    SIGN_FLIP_GROUPS,
    _test_cell,
    compare_results,
)
from trustgauge.report.stats import (
    cluster_mcnemar_p,
    cluster_sums,
    mcnemar_exact_p,
    sign_flip_p,
)


def _brute_force(group_diffs: list[int]) -> float:
    """P(|Σ s_g·D_g| >= |Σ D_g|) over every sign pattern, by enumeration."""
    obs = abs(sum(group_diffs))
    hits = sum(
        1 for signs in itertools.product((1, -1), repeat=len(group_diffs))
        if abs(sum(s * d for s, d in zip(signs, group_diffs))) >= obs
    )
    return hits / 2 ** len(group_diffs)


def test_cluster_sums_keep_first_appearance_order() -> None:
    assert cluster_sums([1.0, 2.0, 3.0, 4.0], ["b", "a", "b", "c"]).tolist() == [4.0, 2.0, 4.0]
    assert cluster_sums([1.0, -2.0], None).tolist() == [1.0, -2.0]


def test_cluster_mcnemar_by_hand() -> None:
    # groups g1 = 2 items both 0 -> 1 (D=+2), g2 = 1 item 0 -> 1 (+1), g3 = 1 item 0 -> 1 (+1):
    # Σ = 4; sign patterns 2±1±1 = {4, 2, 2, 0}, −2±1±1 = {0, −2, −2, −4}: |Σ*| >= 4 in 2 of 8
    xs, ys, groups = [0, 0, 0, 0], [1, 1, 1, 1], ["g1", "g1", "g2", "g3"]
    assert cluster_mcnemar_p(xs, ys, groups) == pytest.approx(2 / 8)
    # the same four items as independent pairs: b=0, c=4, p = 2 · 1/16
    assert cluster_mcnemar_p(xs, ys) == pytest.approx(2 / 16) == mcnemar_exact_p(0, 4)
    # g3 goes the other way (D = +2, +1, −1): Σ = 2; |Σ*| >= 2 in 6 of 8
    assert cluster_mcnemar_p([0, 0, 0, 1], [1, 1, 1, 0], groups) == pytest.approx(6 / 8)
    # a group whose changes cancel (one 0 -> 1, one 1 -> 0) carries nothing: D = 0
    assert cluster_mcnemar_p([0, 1, 0], [1, 0, 1], ["g", "g", "h"]) == pytest.approx(1.0)
    # concordant items only
    assert cluster_mcnemar_p([1, 0, 1], [1, 0, 1], ["g", "g", "h"]) == 1.0
    with pytest.raises(ValueError):
        cluster_mcnemar_p([0.5], [1.0])
    with pytest.raises(ValueError):
        cluster_mcnemar_p([0, 1], [1])


def test_cluster_mcnemar_matches_enumeration() -> None:
    rng = np.random.default_rng(1)
    for _ in range(40):
        n = int(rng.integers(2, 14))
        xs = rng.integers(0, 2, n).astype(float).tolist()
        ys = rng.integers(0, 2, n).astype(float).tolist()
        groups = [f"g{int(g)}" for g in rng.integers(0, 5, n)]
        d = [int(v) for v in cluster_sums([y - x for x, y in zip(xs, ys)], groups)]
        assert cluster_mcnemar_p(xs, ys, groups) == pytest.approx(_brute_force(d), abs=1e-12)


def test_singleton_groups_reduce_exactly_to_mcnemar_and_sign_flip() -> None:
    rng = np.random.default_rng(2)
    for n in (5, 12, 40, 300):
        xs = rng.integers(0, 2, n).astype(float).tolist()
        ys = rng.integers(0, 2, n).astype(float).tolist()
        b = sum(1 for x, y in zip(xs, ys) if x > y)
        c = sum(1 for x, y in zip(xs, ys) if x < y)
        singletons = [str(i) for i in range(n)]
        assert cluster_mcnemar_p(xs, ys, singletons) == mcnemar_exact_p(b, c)
        assert cluster_mcnemar_p(xs, ys) == mcnemar_exact_p(b, c)
        diffs = rng.normal(0.1, 1.0, n).tolist()
        # exact (n <= 12) and seeded Monte Carlo alike: the very same number
        assert sign_flip_p(diffs, seed=4, clusters=singletons) == sign_flip_p(diffs, seed=4)


def test_grouped_sign_flip_by_hand() -> None:
    # groups a: 0.1 + 0.2 = 0.3, b: 0.3, c: −0.1: Σ = 0.5; ±0.3±0.3±0.1 -> {0.7, 0.5, 0.1, −0.1,
    # 0.1, −0.1, −0.5, −0.7}: |Σ*| >= 0.5 in 4 of 8
    diffs, groups = [0.1, 0.2, 0.3, -0.1], ["a", "a", "b", "c"]
    assert sign_flip_p(diffs, clusters=groups) == pytest.approx(4 / 8)
    # as four independent differences: 0.1, 0.2, 0.3, −0.1 -> |Σ*| >= 0.5 in 6 of 16
    assert sign_flip_p(diffs) == pytest.approx(6 / 16)


def _query_records(refused_pairs: list[tuple[bool, bool]], *, grouped: bool) -> list:  # type: ignore[type-arg]
    """privacy.awareness.query: each scenario asked in its normal and augmented form."""
    out = []
    for i, pair in enumerate(refused_pairs):
        for kind, refused in zip(("normal", "aug"), pair):
            out.append(record(
                "privacy.awareness.query", f"{i}-{kind}", {"refusal": 1.0 if refused else 0.0},
                label="refusal" if refused else "compliance", metadata={"type": kind},
                group=f"q{i}" if grouped else None,
            ))
    return out


def test_ignoring_groups_gives_a_misleadingly_small_p_value() -> None:
    # 10 scenarios, each asked twice; A refuses all 20; B complies with both forms of 4
    # scenarios. As 20 independent pairs: b = 8, c = 0, p = 2/2^8 = 0.0078, "significant".
    # But the 8 changes are 4 scenarios: 4 groups with D = −2, p = 2/2^4 = 0.125.
    a_pairs = [(True, True)] * 10
    b_pairs = [(False, False)] * 4 + [(True, True)] * 6
    naive = compare_results(
        synthetic("a", "m", _query_records(a_pairs, grouped=False)),
        synthetic("b", "m", _query_records(b_pairs, grouped=False)),
    )
    rta = next(m for m in naive.metrics if m.metric == "rta")
    assert rta.paired.method == MCNEMAR and rta.paired.discordant == (8, 0)
    assert rta.paired.p_value == pytest.approx(2 / 256) and rta.change == "regression"

    grouped = compare_results(
        synthetic("a", "m", _query_records(a_pairs, grouped=True)),
        synthetic("b", "m", _query_records(b_pairs, grouped=True)),
    )
    rta = next(m for m in grouped.metrics if m.metric == "rta")
    assert rta.paired.method == MCNEMAR_GROUPS and rta.paired.discordant == (8, 0)
    assert rta.paired.n_pairs == 20 and rta.paired.n_groups == 10
    assert rta.paired.p_value == pytest.approx(2 / 16)
    assert not rta.significant and rta.change is None
    assert rta.paired.delta == pytest.approx(-0.4)
    assert "20 pairs in 10 groups" in _test_cell(rta.paired)
    # the breakdown rta[normal] has one sample per group: recomputed, 4 of 10 units changed
    normal = next(m for m in grouped.metrics if m.metric == "rta[normal]")
    assert normal.paired.p_value == pytest.approx(2 / 16)


def test_grouped_continuous_mean_swaps_whole_groups() -> None:
    # average toxicity over 3 groups of 2: per-group differences 0.3, 0.3, −0.1 ... as above
    def recs(values: list[float]) -> list:  # type: ignore[type-arg]
        return [
            record("safety.toxicity", str(i), {"toxicity": v}, label="compliance",
                   metadata={"source": "ITC"}, group=f"g{i // 2}")
            for i, v in enumerate(values)
        ]

    base = [0.2, 0.2, 0.2, 0.2, 0.2, 0.2]
    after = [0.3, 0.4, 0.5, 0.2, 0.1, 0.2]  # groups: +0.3, +0.3, −0.1
    judges = {"refusal": "rules@1", "toxicity": "minilm@1"}
    comp = compare_results(synthetic("a", "m", recs(base), judges=judges),
                           synthetic("b", "m", recs(after), judges=judges), resamples=200)
    avg = next(m for m in comp.metrics if m.metric == "average_toxicity")
    assert avg.paired.method == SIGN_FLIP_GROUPS and avg.paired.n_groups == 3
    # Σ = 0.5: ±0.3±0.3±0.1 reaches |Σ*| >= 0.5 in 4 of 8 patterns
    assert avg.paired.p_value == pytest.approx(4 / 8)
    assert avg.paired.method != SIGN_FLIP


def test_real_runs_record_groups_and_compare_tests_them_as_groups(
    tmp_path_factory: pytest.TempPathFactory, tg_home: Path
) -> None:
    # the packaged quick sample's privacy query: 10 scenarios asked in two forms (20 samples);
    # refusing all vs complying with all: 20 discordant pairs in 10 groups, p = 2/2^10
    extra = ["-t", "privacy.awareness.query"]
    a = real_run(tmp_path_factory, "refuse-query", "scripted:refuse-all", extra)
    b = real_run(tmp_path_factory, "comply-query", "scripted:comply-all", extra)
    res = tg(["compare", str(a), str(b), "--primary-only", "--json", "-"], tg_home, timeout=120)
    assert res.returncode == 0, res.stderr
    row = next(m for m in json.loads(res.stdout)["metrics"] if m["task"] == "privacy.awareness.query")
    assert row["paired"]["method"] == MCNEMAR_GROUPS
    assert (row["paired"]["n_pairs"], row["paired"]["n_groups"]) == (20, 10)
    assert row["paired"]["discordant"] == [20, 0]
    assert row["paired"]["p_value"] == pytest.approx(2 / 2**10)  # as 20 independent pairs: 2/2^20
