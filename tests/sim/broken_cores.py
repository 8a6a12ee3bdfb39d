"""Raft cores broken on purpose, each in one constructed way, to prove the simulation checks bite."""

from __future__ import annotations

import dataclasses
import random

from cluster.keeper.raft import Config, DurableState, Entry, Message, Raft, RaftLog, ReadState, Ready
from cluster.keeper.raft.leadership import Leadership


class _CommitsWithoutMajority(Leadership):
    def _committable_index(self) -> int:
        return self._progress[self.id].match


class CommitsWithoutMajority(Raft):
    """Commits whatever the leader itself has stored, without waiting for a quorum."""

    _leadership_type = _CommitsWithoutMajority


class VotesTwice(Raft):
    """Grants every up-to-date candidate its vote, forgetting whom it already voted for this term."""

    def _can_vote_for(self, m: Message) -> bool:
        return True


class _CommitsOldTermsByCounting(Leadership):
    def _maybe_commit(self) -> bool:
        index = self._committable_index()
        if index <= self.log.committed:
            return False
        self.log.commit_to(index)
        return True


class CommitsOldTermsByCounting(Raft):
    """Counts replicas for entries of earlier terms too: the unsafe commit of Figure 8."""

    _leadership_type = _CommitsOldTermsByCounting


class _TruncatesOneTooLate(RaftLog):
    def _truncate_and_append(self, entries: tuple[Entry, ...]) -> None:
        if len(entries) > 1 and entries[0].index <= self.last_index:
            entries = entries[1:]  # keeps our own entry where the first conflict is
        super()._truncate_and_append(entries)


class TruncatesAtTheWrongPoint(Raft):
    """On a log conflict, truncates one entry too late, keeping a stale entry of its own."""

    def __init__(self, config: Config, rng: random.Random, durable: DurableState = DurableState()) -> None:
        super().__init__(config, rng, durable)
        self.log = _TruncatesOneTooLate(durable.snapshot, durable.entries, durable.hard_state.commit)


class NeverCampaigns(Raft):
    """Never starts an election: trivially safe, and useless."""

    def _campaign(self, pre_vote: bool, force: bool) -> None:
        return


class ReadsLocally(Raft):
    """Answers a read at once at its own commit index, without asking a quorum: stale reads."""

    def read_index(self, context: bytes) -> None:
        self._read_states.append(ReadState(self.log.committed, context))


class SkipsACommittedEntry(Raft):
    """Hands out committed entries with the first of a batch missing."""

    def ready(self) -> Ready:
        ready = super().ready()
        if len(ready.committed_entries) > 1:
            return dataclasses.replace(ready, committed_entries=ready.committed_entries[1:])
        return ready
