"""The Ray executor's pure parts, without a cluster: how the work is split, which samples a
worker given some shards answers, and the store rows that travel between stores."""

from __future__ import annotations

from pathlib import Path

from trustgauge.engine.store import Store
from trustgauge.pipeline.local import TaskData, only_shards, shard_spans
from trustgauge.pipeline.plan import Unit
from trustgauge.results.schema import DatasetInfo
from trustgauge.types import Request, Response, Sample


def _unit(task: str, shard: int, shards: int) -> Unit:
    return Unit(task_id=task, shard=shard, shards=shards, model="{}", roles=(), spec_digest="d")


def test_partition_balances_contiguous_runs() -> None:
    from trustgauge.pipeline.ray import partition

    assert partition([5, 5, 5, 5], 2) == [[0, 1], [2, 3]]
    assert partition([10, 1, 1, 1, 1], 2) == [[0], [1, 2, 3, 4]]
    assert partition([1, 1, 1], 5) == [[0], [1], [2]]  # never an empty run
    assert partition([0, 0, 4, 4], 2) == [[0, 1, 2], [3]]
    assert partition([3], 1) == [[0]]
    runs = partition([7, 2, 9, 4, 4, 1, 8, 3], 3)
    assert [i for r in runs for i in r] == list(range(8)) and len(runs) == 3


class _Task:
    id = "t"


def test_only_shards_keeps_the_given_shards_in_order() -> None:
    samples = [Sample(id=str(i), prompt=f"q{i}") for i in range(10)]
    requests = [Request.user(f"q{i}") for i in range(10)]
    work = TaskData(_Task(), samples, requests, DatasetInfo(dataset="x", path="p", sha256="s", records=10, source="here"))  # type: ignore[arg-type]
    units = [_unit("t", 3, 4), _unit("t", 1, 4)]  # shards 1 and 3 of 4: samples 2-4 and 7-9
    mine = only_shards(work, units)
    assert [s.id for s in mine.samples] == ["2", "3", "4", "7", "8", "9"]
    assert [r.prompt for r in mine.requests] == ["q2", "q3", "q4", "q7", "q8", "q9"]
    spans = shard_spans(units, "t", 10)
    assert spans == {_unit("t", 1, 4): (0, 3), _unit("t", 3, 4): (3, 6)}
    whole = [_unit("t", i, 4) for i in range(4)]
    assert only_shards(work, whole) is work  # every shard: untouched
    assert shard_spans(whole, "t", 10) == {whole[0]: (0, 2), whole[1]: (2, 5), whole[2]: (5, 7), whole[3]: (7, 10)}


def test_store_rows_travel_first_one_kept(tmp_path: Path) -> None:
    a, b = Store(tmp_path / "a.sqlite3"), Store(tmp_path / "b.sqlite3")
    req = Request.user("hello")
    a.put_response("k1", {"m": "x"}, req, Response(text="one"))
    a.put_response("k2", {"m": "x"}, req, Response(text="two"))
    rows = a.get_rows(["k1", "k2", "missing"])
    assert sorted(r[0] for r in rows) == ["k1", "k2"]
    b.put_response("k1", {"m": "x"}, req, Response(text="already"))
    assert b.put_rows(rows) == 1  # k1 kept as it was, k2 new
    got = b.get_responses(["k1", "k2"])
    assert got["k1"].text == "already" and got["k2"].text == "two"
    assert b.put_rows([]) == 0
    a.close()
    b.close()
