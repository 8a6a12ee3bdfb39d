"""Builds queue histories in the shared format, one op at a time, for the checker tests."""

from __future__ import annotations

from typing import Any

TEST = {"name": "queue", "workload": "queue", "acks": "all", "idempotence": True, "retries": 5,
        "mode": "assign", "partitions": 2, "broker_overrides": {}}


class History:
    """Ops appended in order; each call writes an invoke and, unless type is None, its completion."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def event(self, process: Any, type: str, f: str, value: Any, error: str | None = None) -> int:
        event = {"index": len(self.events), "time": len(self.events) * 1_000_000, "process": process,
                 "type": type, "f": f, "value": value}
        if error is not None:
            event["error"] = error
        self.events.append(event)
        return event["index"]

    def op(self, process: Any, f: str, asked: Any, type: str | None, result: Any = None) -> int:
        """Returns the index of the completion (the invoke's when type is None)."""
        index = self.event(process, "invoke", f, asked)
        if type is None:
            return index
        return self.event(process, type, f, result if type == "ok" else asked,
                          None if type == "ok" else "something went wrong")

    def send(self, process: Any, partition: int, value: int, offset: int | None = None, type: str | None = "ok") -> int:
        result = {"partition": partition, "offset": offset, "value": value}
        return self.op(process, "send", {"partition": partition, "value": value}, type, result)

    def poll(self, process: Any, reads: dict[int, list[tuple[int, int]]], type: str | None = "ok") -> int:
        return self.op(process, "poll", None, type, {str(p): [list(r) for r in rs] for p, rs in reads.items()})

    def assign(self, process: Any, partitions: list[int]) -> int:
        return self.op(process, "assign", partitions, "ok", partitions)

    def subscribe(self, process: Any, topic: str = "queue") -> int:
        return self.op(process, "subscribe", [topic], "ok", [topic])

    def nemesis(self, f: str, target: str, nodes: list[str]) -> int:
        return self.op("nemesis", f, target, "ok", {"nodes": nodes, "action": f})
