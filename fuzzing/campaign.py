"""A seeded campaign against one target: batches of cases, every batch judged, every new failure shrunk.

A batch the harness cannot judge (its own reads of the server fail) ends the campaign, reported as a
failure with the figures so far. The cases are a function of the seed alone (never of the server's answers), so a campaign
replays exactly. A batch is judged four ways: the target's reading of the answers, new
internal errors in the server's log, the stored data's digest (which a batch with no
accepted write must leave unchanged), and the server still running. A failure seen for
the first time is traced to the one case that causes it alone (replayed on a connection of
its own), then shrunk; a real client is tried every `client_every` frames and at the end.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from fuzzing.cases import Case, Target
from fuzzing.server_log import blurred, signature
from fuzzing.shrink import shrink

DATA_CHANGED = "stored data changed although no request that may write was accepted"
_UNKNOWN = object()
"""No digest taken since the last thing that may have changed the data (a write, a real client, a trace)."""


@dataclass
class Failure:
    signature: str
    case: Case
    """The smallest reproducing frame found (or the batch's first case when none reproduces alone)."""
    reproduced_alone: bool
    detail: str = ""


@dataclass
class Report:
    target: str
    seed: int
    frames: int = 0
    skipped: int = 0
    skip_reason: str = ""
    seconds: float = 0.0
    failures: list[Failure] = field(default_factory=list)
    client_checks: int = 0
    exit_code: int | None = None

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0

    def lines(self) -> list[str]:
        head = (f"{self.target}: {self.frames} frames (seed {self.seed}) in {self.seconds:.1f} s, "
                f"{self.frames_per_second:.0f} frames/s; {self.skipped} not sent ({self.skip_reason}); "
                f"{self.client_checks} real-client checks; {len(self.failures)} distinct failure(s)")
        out = [head]
        for failure in self.failures:
            alone = "" if failure.reproduced_alone else " (not reproduced by one frame alone: the batch's first shown)"
            out.append(f"  FAIL {failure.signature}{alone}\n    made as: {failure.case.kind}\n"
                       f"    frame ({len(failure.case.data)} bytes, {'framed' if failure.case.framed else 'unframed'}):"
                       f" {_shown(failure.case.data)}")
            if failure.detail:
                out.append("    " + failure.detail.replace("\n", "\n    "))
        return out


def _shown(data: bytes, most: int = 1024) -> str:
    return data.hex() if len(data) <= most else f"{data[:most].hex()}... ({len(data) - most} bytes more)"


def run(target: Target, frames: int, seed: int, client_every: int = 100_000, progress_every: float = 0) -> Report:
    rng = random.Random(seed)
    # How slow senders cut their frames comes from a stream of its own: replaying and shrinking a
    # failure send frames too, and must not change the cases that follow.
    wire_rng = random.Random(f"{seed}/wire")
    report = Report(target.name, seed)
    seen: set[str] = set()
    started = last_progress = time.monotonic()
    next_client_check = client_every
    digest: object = _UNKNOWN
    while report.frames < frames:
        cases = _next_batch(target, rng, min(target.batch_size, frames - report.frames))
        try:
            found, details, digest = _judge(target, cases, wire_rng, digest)
        except Exception as error:  # the harness could not judge (its own reads failed): report what came before
            report.failures.append(Failure(f"the campaign stopped: {type(error).__name__}: {error}", cases[0], False))
            break
        report.frames += len(cases)
        for problem in sorted(set(found) - seen):
            seen.add(problem)
            report.failures.append(_trace(target, cases, problem, details.get(problem, ""), wire_rng))
            digest = _UNKNOWN
        if target.exit_code() is not None:
            report.exit_code = target.exit_code()
            break
        if report.frames >= next_client_check:
            next_client_check += client_every
            _check_client(target, report, seen)
            digest = _UNKNOWN
        if progress_every and time.monotonic() - last_progress >= progress_every:
            last_progress = time.monotonic()
            print(f"  {target.name}: {report.frames} frames, {report.frames / (last_progress - started):.0f}/s, "
                  f"{len(report.failures)} failure(s)", flush=True)
    report.seconds = time.monotonic() - started
    report.skipped, report.skip_reason = target.skipped, target.skip_reason
    if report.exit_code is None:
        _check_client(target, report, seen)
    return report


def _next_batch(target: Target, rng: random.Random, most: int) -> list[Case]:
    """Up to `most` cases, the last one perhaps one after which the connection must end."""
    cases: list[Case] = []
    while len(cases) < most:
        cases.append(target.next_case(rng))
        if target.ends_connection(cases[-1]):
            break
    return cases


def _judge(target: Target, cases: list[Case], rng: random.Random,
           before: object = _UNKNOWN) -> tuple[list[str], dict[str, str], object]:
    """Failure signatures for one batch, the full text behind the internal-error ones, and the digest after
    it (_UNKNOWN when not taken). `before` is the digest the last batch left, if known: one digest a batch."""
    before = target.digest() if before is _UNKNOWN else before
    after: object = _UNKNOWN
    result = target.run_batch(cases, rng)
    found = [blurred(problem) for problem in result.problems]
    details: dict[str, str] = {}
    for error in target.new_errors():
        key = f"internal error: {signature(error)}"
        found.append(key)
        details[key] = error
    if not result.wrote:
        after = target.digest()
        if after != before:
            found.append(DATA_CHANGED)
    if target.exit_code() is not None:
        found.append(f"the server exited with code {target.exit_code()}")
    return found, details, after


def _trace(target: Target, cases: list[Case], problem: str, detail: str, rng: random.Random) -> Failure:
    """The case that fails `problem` alone, shrunk; else the batch's first case, as found."""
    if target.exit_code() is not None:
        return Failure(problem, cases[0], False, detail)

    def still_fails(case: Case) -> bool:
        return problem in _judge(target, [case], rng)[0]

    culprit = next((case for case in cases if still_fails(case)), None)
    if culprit is None:
        return Failure(problem, cases[0], False, detail)
    return Failure(problem, shrink(culprit, still_fails), True, detail)


def _check_client(target: Target, report: Report, seen: set[str]) -> None:
    report.client_checks += 1
    problem = target.client_problem()
    if problem is not None and problem not in seen:
        seen.add(problem)
        report.failures.append(Failure(f"real client: {problem}", Case(b"", False, "real client"), False))
