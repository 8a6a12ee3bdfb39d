"""The log's own rules: the AppendEntries consistency check, truncation, conflict hints."""

from __future__ import annotations

import pytest

from cluster.keeper.raft import EMPTY_SNAPSHOT, Entry, LogInvariantError, RaftLog, Snapshot


def _log(*terms: int, commit: int = 0, snapshot: Snapshot = EMPTY_SNAPSHOT) -> RaftLog:
    start = snapshot.index + 1
    return RaftLog(snapshot, tuple(Entry(t, i) for i, t in enumerate(terms, start=start)), commit)


def test_an_append_whose_previous_entry_does_not_match_is_refused() -> None:
    log = _log(1, 1, 2)
    assert log.maybe_append(3, 1, 0, (Entry(3, 4),)) is None
    assert log.maybe_append(5, 2, 0, (Entry(3, 6),)) is None
    assert log.last_index == 3


def test_a_conflicting_suffix_is_replaced_and_a_matching_one_kept() -> None:
    log = _log(1, 1, 2, 2)
    assert log.maybe_append(1, 1, 0, (Entry(1, 2), Entry(3, 3))) == 3
    assert [log.term(i) for i in range(1, 4)] == [1, 1, 3]
    assert log.last_index == 3
    assert log.maybe_append(1, 1, 0, (Entry(1, 2),)) == 2  # a stale, shorter append truncates nothing
    assert log.last_index == 3


def test_truncating_a_committed_entry_is_an_invariant_violation() -> None:
    log = _log(1, 1, 2, commit=3)
    with pytest.raises(LogInvariantError):
        log.maybe_append(1, 1, 0, (Entry(1, 2), Entry(3, 3)))


def test_committing_beyond_the_last_entry_is_an_invariant_violation() -> None:
    with pytest.raises(LogInvariantError):
        _log(1, 1).commit_to(3)


def test_an_append_commits_no_further_than_the_entries_it_carried() -> None:
    log = _log(1, 1, 2, 2)
    log.maybe_append(1, 1, 4, (Entry(1, 2),))
    assert log.committed == 2


def test_conflict_hints_skip_a_whole_term_at_a_time() -> None:
    log = _log(1, 1, 1, 4, 4, 5, 5, 6, 6, 6)
    assert log.find_conflict_by_term(10, 3) == (3, 1)
    assert log.find_conflict_by_term(10, 6) == (10, 6)
    assert log.find_conflict_by_term(99, 5) == (7, 5)
    assert log.find_conflict_by_term(10, 0) == (0, 0)


def test_conflict_hints_stop_at_the_snapshot() -> None:
    log = _log(3, 3, snapshot=Snapshot(5, 2), commit=5)
    assert log.find_conflict_by_term(7, 1) == (5, 2)


def test_the_election_restriction_compares_last_term_then_length() -> None:
    log = _log(1, 2, 2)
    assert log.is_up_to_date(1, 3)
    assert log.is_up_to_date(3, 2)
    assert not log.is_up_to_date(2, 2)
    assert not log.is_up_to_date(9, 1)


def test_restoring_a_snapshot_replaces_the_whole_log() -> None:
    log = _log(1, 1, 2, commit=1)
    log.restore(Snapshot(10, 4, b"state"))
    assert (log.first_index, log.last_index, log.last_term, log.committed) == (11, 10, 4, 10)
    assert log.entry(3) is None and log.term(10) == 4
    with pytest.raises(LogInvariantError):
        log.restore(Snapshot(9, 4))
