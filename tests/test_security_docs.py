"""docs/security.md (issue 17): its attack catalogue is what the registry holds, every attack in
it, and the suite it documents selects the six security probes."""

from __future__ import annotations

from _scripts import load_script
from trustgauge.attacks.registry import iterative, transforms
from trustgauge.tasks.suites import get_suite

SCRIPTS = load_script("make_attacks_doc")


def test_the_attack_catalogue_is_up_to_date() -> None:
    assert SCRIPTS.main(["--check"]) == 0


def test_the_catalogue_lists_every_attack_once() -> None:
    table = SCRIPTS.catalogue()
    ids = [line.split("`")[1] for line in table.splitlines()[2:]]
    expected = [cls().id for cls in transforms().values()] + [cls().id for cls in iterative().values()]
    assert sorted(ids) == sorted(expected)
    assert len(ids) == len(set(ids))
    assert {"pair@1", "tap@1", "crescendo@1", "none@1", "base64@1"} <= set(ids)


def test_the_security_suites_select_the_six_probes() -> None:
    probes = {
        "fan2023.jailbreak", "fan2023.jailbreak_pair", "fan2023.jailbreak_tap", "fan2023.jailbreak_crescendo",
        "fan2023.injection_indirect", "fan2023.injection_direct",
    }
    assert set(get_suite("security").tasks) == probes
    quick = get_suite("quick-security")
    assert set(quick.tasks) == probes and quick.limit == 24
