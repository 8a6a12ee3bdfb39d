"""The AMQP 0-9-1 client every benchmark drives RabbitMQ with: pika's SelectConnection (the fastest Python
AMQP 0-9-1 client found), one channel a session.

Publishing keeps a window of publisher confirms in flight, the fair match for a batching Kafka producer (a
confirm per message only measures round trips); consuming acknowledges many deliveries at once. Each
session runs pika's I/O loop until its work is done, and raises when the connection or channel fails.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

import pika


class _AmqpSession:
    """One pika SelectConnection with one channel: the callback chain every AMQP step here starts from."""

    def __init__(self, port: int) -> None:
        self.channel: Any = None
        self.failure: str | None = None
        self.done = False
        self.connection = pika.SelectConnection(
            pika.ConnectionParameters("127.0.0.1", port),
            on_open_callback=lambda connection: connection.channel(on_open_callback=self._opened),
            on_open_error_callback=lambda _, error: self._fail(f"cannot connect: {error}"),
            on_close_callback=lambda *_: self.connection.ioloop.stop(),
        )

    def run_loop(self) -> None:
        self.connection.ioloop.start()
        if self.failure:
            raise RuntimeError(f"RabbitMQ: {self.failure}")

    def _opened(self, channel: Any) -> None:
        self.channel = channel
        channel.add_on_close_callback(self._channel_closed)
        self.ready()

    def _channel_closed(self, channel: Any, reason: Exception) -> None:
        if not self.done:
            self._fail(f"channel closed: {reason}")

    def ready(self) -> None:
        """Called once the channel is open: each subclass starts its work here."""
        raise NotImplementedError

    def _fail(self, why: str) -> None:
        self.failure = self.failure or why
        if self.connection.is_open:
            self.connection.close()
        else:
            self.connection.ioloop.stop()

    def finish(self) -> None:
        self.done = True
        self.connection.close()


class ConfirmedPublisher(_AmqpSession):
    """Persistent messages to a durable queue, keeping `window` publishes unconfirmed; a confirm (multiple or
    single) releases room for more. Returns each message's publish-to-confirm latency, sorted."""

    def __init__(self, port: int, queue: str, body: bytes, count: int, window: int) -> None:
        super().__init__(port)
        self.queue, self.body, self.count, self.window = queue, body, count, window
        self.properties = pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent)
        self.in_flight: deque[tuple[int, float]] = deque()
        self.sent = 0
        self.latencies: list[float] = []

    def run(self) -> list[float]:
        self.run_loop()
        if len(self.latencies) != self.count:
            raise RuntimeError(f"RabbitMQ confirmed {len(self.latencies):,} of {self.count:,} publishes")
        return sorted(self.latencies)

    def ready(self) -> None:
        self.channel.queue_declare(self.queue, durable=True, callback=lambda _: self.channel.confirm_delivery(
            self._confirmed, callback=lambda _: self._fill()))

    def _fill(self) -> None:
        publish = self.channel.basic_publish
        while self.sent < self.count and len(self.in_flight) < self.window:
            self.sent += 1
            self.in_flight.append((self.sent, time.perf_counter()))
            publish("", self.queue, self.body, self.properties)

    def _confirmed(self, frame: Any) -> None:
        method = frame.method
        if isinstance(method, pika.spec.Basic.Nack):
            self._fail(f"broker nacked delivery tag {method.delivery_tag}")
            return
        now = time.perf_counter()
        if method.multiple:
            while self.in_flight and self.in_flight[0][0] <= method.delivery_tag:
                self.latencies.append(now - self.in_flight.popleft()[1])
        else:
            self._confirm_one(method.delivery_tag, now)
        if len(self.latencies) == self.count:
            self.finish()
        else:
            self._fill()

    def _confirm_one(self, tag: int, now: float) -> None:
        for index, (pending, sent_at) in enumerate(self.in_flight):
            if pending == tag:
                del self.in_flight[index]
                self.latencies.append(now - sent_at)
                return


class Drainer(_AmqpSession):
    """Consumes `count` messages with manual acks, holding at most `prefetch` unacknowledged and acknowledging a
    quarter of them at a time (multiple=True)."""

    def __init__(self, port: int, queue: str, count: int, prefetch: int) -> None:
        super().__init__(port)
        self.queue, self.count, self.prefetch = queue, count, prefetch
        self.received = 0
        self.ack_every = max(prefetch // 4, 1)

    def run(self) -> None:
        self.run_loop()
        if self.received != self.count:
            raise RuntimeError(f"RabbitMQ delivered {self.received:,} of {self.count:,} messages")

    def ready(self) -> None:
        self.channel.basic_qos(prefetch_count=self.prefetch,
                               callback=lambda _: self.channel.basic_consume(self.queue, self._delivered))

    def _delivered(self, channel: Any, method: Any, properties: Any, body: bytes) -> None:
        self.received += 1
        if self.received % self.ack_every == 0 or self.received == self.count:
            channel.basic_ack(method.delivery_tag, multiple=True)
        if self.received == self.count:
            self.finish()
