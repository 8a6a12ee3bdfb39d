"""Synthetic CAS-register histories at any size: many keys, overlapping operations, a few unknown outcomes.

Each key is its own register, driven by CLIENTS_PER_KEY clients with operations in flight at once.
An operation takes effect at one instant between its call and its return; the instants are drawn
first, the register is run in their order to get every read's value and every cas's outcome, and
the intervals are then stretched around them, so the history is linearizable by construction. A few
writes and cases time out: they take effect or not (a coin decides) and their outcome is unknown
(no return time). With `inject`, one read somewhere returns a value no one ever wrote, which no
order can explain. Operations are pyporcupine's, for Independent(CasRegisterModel()).
"""

from __future__ import annotations

import random

from pyporcupine import Operation
from pyporcupine.models import UNKNOWN

CLIENTS_PER_KEY = 5
VALUES = 5
"""Values written are 0..VALUES-1, as in Jepsen's register tests: states repeat, as in real runs."""
NEVER_WRITTEN = -1
UNKNOWN_EVERY = 500
"""One write or cas in this many times out."""
TICK = 100
"""Time between consecutive instants of taking effect on one key."""


def register_history(operations: int, keys: int, seed: int, inject: bool) -> list[Operation]:
    """`operations` spread evenly over `keys` registers; one impossible read if `inject`."""
    rng = random.Random(seed)
    history: list[Operation] = []
    for key in range(keys):
        history += _one_key(key, operations // keys + (key < operations % keys), rng)
    if inject:
        reads = [i for i, op in enumerate(history) if op.input[1][0] == "read"]
        index = rng.choice(reads)
        op = history[index]
        history[index] = Operation(op.client_id, op.input, op.call, NEVER_WRITTEN, op.return_time)
    return history


def _one_key(key: int, count: int, rng: random.Random) -> list[Operation]:
    """Operations take effect at 0, TICK, 2*TICK...; each is in flight for up to CLIENTS_PER_KEY ticks
    around that instant, so about that many overlap."""
    random_value = rng.randrange
    state = None
    ops = []
    spread = CLIENTS_PER_KEY * TICK
    for n in range(count):
        at = n * TICK
        call = at - random_value(spread)
        end = at + random_value(spread)
        client = key * CLIENTS_PER_KEY + n % CLIENTS_PER_KEY
        roll = random_value(10)
        if roll < 5:
            ops.append(Operation(client, (key, ("read",)), call, state, end))
            continue
        if roll < 8:
            input = ("write", random_value(VALUES))
        else:
            input = ("cas", random_value(VALUES), random_value(VALUES))
        timed_out = random_value(UNKNOWN_EVERY) == 0
        takes_effect = not timed_out or rng.random() < 0.5
        if input[0] == "write":
            output = None
            if takes_effect:
                state = input[1]
        else:
            output = state == input[1]
            if output and takes_effect:
                state = input[2]
        if timed_out:
            ops.append(Operation(client, (key, input), call, UNKNOWN, None))
        else:
            ops.append(Operation(client, (key, input), call, output, end))
    return ops
