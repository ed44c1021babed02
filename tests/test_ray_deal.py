"""How the Ray executor deals units to its workers (``pipeline.ray.deal``)."""

from __future__ import annotations


def test_deal_interleaves_balanced_runs() -> None:
    from trustgauge.pipeline.ray import deal

    # 8 equal units, 2 workers, 2 rounds: partition into 4 runs of 2, dealt alternately
    assert deal([5] * 8, 2, rounds=2) == [[0, 1, 4, 5], [2, 3, 6, 7]]
    # one round is the contiguous partition
    assert deal([5, 5, 5, 5], 2, rounds=1) == [[0, 1], [2, 3]]
    # fewer units than runs: every unit its own run, no worker left empty-handed while work remains
    assert deal([3, 3, 3], 2, rounds=4) == [[0, 2], [1]]
    # more workers than units: no empty share
    assert deal([1], 3, rounds=8) == [[0]]


def test_deal_keeps_every_unit_once_in_plan_order() -> None:
    from trustgauge.pipeline.ray import deal

    sizes = [7, 1, 1, 30, 2, 2, 2, 9, 4, 4, 4, 4, 13]
    shares = deal(sizes, 3, rounds=2)
    assert sorted(i for share in shares for i in share) == list(range(len(sizes)))
    assert all(share == sorted(share) for share in shares)
    assert len(shares) == 3
