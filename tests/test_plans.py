"""Plan ids: bound to their changes, single use, expiring, shared between processes through SQLite."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotelrunner_mcp.calendar.plans import PlanStore, plans_db_path
from hotelrunner_mcp.errors import InvalidRequest

TTL = 300.0
PREVIEWED = "a" * 64
OTHER = "b" * 64


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[PlanStore]:
    s = PlanStore(plans_db_path(tmp_path), ttl_seconds=TTL, clock=clock)
    yield s
    s.close()


def refusal(store: PlanStore, plan_id: str, fingerprint: str) -> str:
    with pytest.raises(InvalidRequest) as caught:
        store.redeem(plan_id, fingerprint)
    return str(caught.value)


def test_a_plan_applies_once(store: PlanStore) -> None:
    plan = store.issue(PREVIEWED, {"request_count": 2})
    store.redeem(plan.plan_id, PREVIEWED)

    message = refusal(store, plan.plan_id, PREVIEWED)
    assert f"plan {plan.plan_id} was already applied at" in message
    assert "preview the new changes" in message


def test_plan_ids_are_short_unguessable_and_distinct(store: PlanStore) -> None:
    ids = {store.issue(PREVIEWED).plan_id for _ in range(50)}
    assert len(ids) == 50
    assert all(12 <= len(i) <= 24 and i.replace("-", "").replace("_", "").isalnum() for i in ids)


def test_a_plan_expires_after_its_ttl(store: PlanStore, clock: Clock) -> None:
    plan = store.issue(PREVIEWED)
    assert plan.expires_at == clock.now + TTL
    clock.now += TTL + 1

    message = refusal(store, plan.plan_id, PREVIEWED)
    assert f"plan {plan.plan_id} expired at {plan.expires_at_iso}" in message
    assert "Preview the changes again" in message


def test_a_plan_still_applies_just_before_it_expires(store: PlanStore, clock: Clock) -> None:
    plan = store.issue(PREVIEWED)
    clock.now += TTL - 1
    store.redeem(plan.plan_id, PREVIEWED)
    assert store.get(plan.plan_id).used_at == clock.now


def test_other_changes_cannot_use_the_plan_and_do_not_spend_it(store: PlanStore) -> None:
    plan = store.issue(PREVIEWED)

    message = refusal(store, plan.plan_id, OTHER)
    assert "the changes differ from the ones previewed" in message
    assert "Preview these changes to get their own plan id" in message
    store.redeem(plan.plan_id, PREVIEWED)  # still good for the previewed changes


def test_an_unknown_plan_id_is_refused(store: PlanStore) -> None:
    message = refusal(store, "made-up", PREVIEWED)
    assert "unknown plan id 'made-up'" in message


def test_the_summary_is_kept_with_the_plan(store: PlanStore) -> None:
    plan = store.issue(PREVIEWED, {"request_count": 2, "descriptions": ["price 150.00 EUR"]})
    stored = store.get(plan.plan_id)
    assert stored is not None
    assert stored.summary == {"request_count": 2, "descriptions": ["price 150.00 EUR"]}
    assert stored.used_at is None


def test_a_plan_issued_by_one_process_applies_through_another(tmp_path: Path, clock: Clock) -> None:
    first = PlanStore(plans_db_path(tmp_path), ttl_seconds=TTL, clock=clock)
    second = PlanStore(plans_db_path(tmp_path), ttl_seconds=TTL, clock=clock)
    try:
        plan = first.issue(PREVIEWED)
        second.redeem(plan.plan_id, PREVIEWED)
        assert "already applied" in refusal(first, plan.plan_id, PREVIEWED)
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize("separate_connections", [False, True])
def test_concurrent_applies_exactly_one_wins(tmp_path: Path, clock: Clock, separate_connections: bool) -> None:
    stores = [
        PlanStore(plans_db_path(tmp_path), ttl_seconds=TTL, clock=clock)
        for _ in range(2 if separate_connections else 1)
    ]
    plan = stores[0].issue(PREVIEWED)
    start = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def apply(store: PlanStore) -> None:
        start.wait()
        try:
            store.redeem(plan.plan_id, PREVIEWED)
            result = "won"
        except InvalidRequest as exc:
            result = "already applied" if "already applied" in str(exc) else str(exc)
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=apply, args=(stores[i % len(stores)],)) for i in range(8)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)
    finally:
        for s in stores:
            s.close()
    assert sorted(outcomes) == ["already applied"] * 7 + ["won"]


def test_a_ttl_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ttl_seconds"):
        PlanStore(plans_db_path(tmp_path), ttl_seconds=0)
