"""isolate-leader: a partition's leader alone acknowledges writes, then a follower that lacks them is elected.

start-isolate-leader pauses (SIGSTOP, or docker pause) the in-sync followers of one partition
(options "topic" and "partition", 0 by default) for "isolation_time" seconds (2 by default). Under
acks=1 the leader meanwhile acknowledges writes no follower has; under acks=all it cannot, since
its high watermark cannot move. Then it SIGKILLs the leader and resumes the followers, which are
still in the ISR, so the controller elects one of them once the dead leader's keeper session
expires: a clean election of a log that lacks the acknowledged writes. The start waits for that
election (at most "election_timeout" seconds, 30 by default) and names the new leader ("elected",
null if none came in time): a leader restarted before its session expired would simply lead again
with its writes, and the cycle would prove nothing. stop-isolate-leader starts the old leader
again; it truncates to the new leader's log, and the writes are gone for good. Under acks=1 that is
loss the configuration allows and the queue checker reports as lost-write; under acks=all nothing
acknowledged may be lost.

Each start and stop is one cycle; a run's schedule repeats cycles until its time limit, so a
longer run has more chances to catch writes in the gap. The schedule's target is not used: the
fault always acts on the partition's leader and followers of the moment. The followers must stay
in the ISR while paused, so isolation_time must stay below the brokers' replica.lag.time.max.ms.
"""

from __future__ import annotations

import time
from typing import Any

from harness.seams import Deployment
from nemesis.base import NemesisError
from nemesis.process import Claims, FaultKind, ProcessFault, kinds

NAME = "isolate-leader"


class LeaderIsolation(ProcessFault):
    """Holds the killed leader until stop, like kill; the followers are paused only inside the start."""

    def __init__(self, deployment: Deployment, options: dict[str, Any], claims: Claims) -> None:
        process_kinds = kinds(float(options.get("stop_timeout", 30)))
        kill = process_kinds["kill"]
        super().__init__(FaultKind(NAME, kill.start, kill.stop), deployment, options, claims)
        self.pause = process_kinds["pause"]
        self.isolation_time = float(options.get("isolation_time", 2))
        self.election_timeout = float(options.get("election_timeout", 30))

    def _start(self, value: Any) -> dict[str, Any]:
        if self.held:
            raise NemesisError(f"{NAME} is already active on {', '.join(n.name for n in self.held)}")
        leader, followers = self.locator.partition_leader_and_followers()
        for node in (leader, *followers):
            self._free(node)
        paused: list[str] = []
        try:
            for follower in followers:
                self._do(self.pause.start, follower, paused)
                paused.append(follower.name)
            time.sleep(self.isolation_time)
            done = super()._start([leader.name])
        finally:
            self._resume(paused)
        return {**done, "isolated_by_pausing": paused, "isolated_for_s": self.isolation_time,
                "elected": self._election_after(leader.name)}

    def _election_after(self, old_leader: str) -> str | None:
        """The partition's next leader, once metadata names one other than old_leader; None if none in time."""
        deadline = time.monotonic() + self.election_timeout
        while time.monotonic() < deadline:
            try:
                leader = self.locator.partition_leader().name
            except NemesisError:  # no leader at the moment, or no metadata from the brokers still up
                leader = old_leader
            if leader != old_leader:
                return leader
            time.sleep(0.2)
        return None

    def _resume(self, names: list[str]) -> None:
        """Every paused follower is resumed, even when one resume fails; the first failure is raised after."""
        errors = []
        for name in names:
            try:
                self._do(self.pause.stop, self.deployment.node(name), [])
            except NemesisError as error:
                errors.append(str(error))
        if errors:
            raise NemesisError("; ".join(errors))
