"""A cluster that crosses the threshold continues the open case it overlaps."""

from __future__ import annotations

from detector.pipeline.cases import CaseInfo, continued_case


def case(case_id: str, accounts: range | list[str]) -> CaseInfo:
    return CaseInfo(case_id=case_id, opened_at=0.0, peak_score=0.9, accounts=set(accounts))


def names(prefix: str, count: int, start: int = 0) -> list[str]:
    return [f"{prefix}{i:03d}" for i in range(start, start + count)]


def test_a_part_split_off_a_campaign_continues_its_case() -> None:
    campaign = case("C000001", names("a", 100))
    other = case("C000002", names("b", 10))
    split_off = set(names("a", 30, start=70)) | set(names("n", 5))
    assert continued_case([campaign, other], split_off) is campaign


def test_a_cluster_that_takes_in_a_small_early_case_continues_it() -> None:
    early = case("C000001", names("m", 19))
    grown = set(names("m", 19)) | set(names("x", 480))
    assert continued_case([early], grown) is early


def test_a_cluster_sharing_a_few_accounts_opens_its_own_case() -> None:
    campaign = case("C000001", names("a", 100))
    newcomer = set(names("a", 3)) | set(names("z", 20))
    assert continued_case([campaign], newcomer) is None


def test_the_case_sharing_the_most_accounts_wins_and_ties_go_to_the_older() -> None:
    first = case("C000001", names("a", 10))
    second = case("C000002", names("b", 10))
    assert continued_case([second, first], set(names("a", 6)) | set(names("b", 8))) is second
    assert continued_case([second, first], set(names("a", 8)) | set(names("b", 8))) is first


def test_a_case_continued_by_two_clusters_is_considered_once() -> None:
    shared = case("C000001", names("a", 10))
    assert continued_case([shared, shared], set(names("a", 5))) is shared
