"""A broker in this process, on an event loop of its own thread, with a wall clock the test steps.

A clock step is what the broker must survive here, so its wall clock is injected (Broker's
`clock`) while its monotonic clock stays the real one, as with a real step; real clients talk to
it over its socket from the test's thread meanwhile.
"""

from __future__ import annotations

import asyncio
import faulthandler
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from cluster.broker.broker import Broker
from cluster.broker.config import BrokerConfig
from cluster.broker.log.clock import wall_clock_ms
from cluster.broker.server import BrokerServer
from cluster.deploy.ports import HOST, free_port
from tests.polling import WAIT_S

Result = TypeVar("Result")


class SteppedClock:
    """The wall clock plus an offset a test changes: a clock step, as an operator or NTP makes one."""

    def __init__(self) -> None:
        self.offset_ms = 0

    def __call__(self) -> int:
        return wall_clock_ms() + self.offset_ms

    def step(self, ms: int) -> None:
        self.offset_ms += ms


class BrokerThread:
    """`with BrokerThread(directory, clock, **properties) as broker:` serves on broker.bootstrap until the block ends."""

    def __init__(self, data_dir: Path, clock: SteppedClock, **properties: str) -> None:
        self.clock = clock
        self.port = free_port()
        self.config = BrokerConfig.from_properties({
            "log.dirs": str(data_dir), "listeners": f"PLAINTEXT://{HOST}:{self.port}",
            "group.initial.rebalance.delay.ms": "0", "offsets.topic.num.partitions": "1", **properties,
        })
        self.broker = Broker(self.config, clock=clock)
        self._server = BrokerServer(self.broker)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"broker-{self.config.broker_id}", daemon=True)

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"

    def run(self, work: Callable[[Broker], Awaitable[Result]], timeout_s: float = WAIT_S) -> Result:
        """Runs a coroutine on the broker's loop (where its state may be touched) and returns its result."""
        return asyncio.run_coroutine_threadsafe(_awaited(work, self.broker), self._loop).result(timeout_s)

    def read(self, look: Callable[[Broker], Result]) -> Result:
        """Calls `look` on the broker's loop: a consistent look at its state."""

        async def looked(broker: Broker) -> Result:
            return look(broker)

        return self.run(looked)

    def __enter__(self) -> BrokerThread:
        self._thread.start()
        try:
            self.run(self._start)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.run(self._stop)
        except TimeoutError:
            faulthandler.dump_traceback(all_threads=True)  # where a stop that never ends is stuck, for the report
            raise
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(WAIT_S)
            self._loop.close()

    async def _start(self, broker: Broker) -> None:
        broker.load()
        await broker.start()
        await self._server.start()
        broker.start_housekeeping()

    async def _stop(self, broker: Broker) -> None:
        await broker.leave()
        await self._server.close()
        await broker.close()



async def _awaited(work: Callable[[Broker], Awaitable[Any]], broker: Broker) -> Any:
    return await work(broker)
