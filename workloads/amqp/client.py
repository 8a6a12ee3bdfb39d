"""One process's AMQP 0-9-1 client (pika's BlockingConnection): enqueues with publisher confirms, dequeues with
manual acknowledgements, and drains.

Outcomes follow what the broker said: an enqueue is ok once confirmed, fail when nacked (the broker
says it did not take it), info when the connection or channel went before either (it may or may not
have). A dequeue takes one message with basic.get and acknowledges it; its value is the message,
or None for an empty queue. A message got but whose ack's fate is unknown is reported info with its
value: it was delivered, and may be delivered again. Every op is bounded by the run's op_timeout: the
connection is closed when one takes longer, and the op ends info. After an info the interpreter
opens a fresh client, so this one never reconnects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pika
import pika.exceptions

from harness.seams import Completion, failed, ok, unknown
from harness.spec import TestSpec
from workloads.amqp.options import AmqpOptions

HEARTBEAT_S = 5
"""A silent peer (a paused node) is found within two heartbeats."""

CONNECTION_ERRORS = (pika.exceptions.AMQPError, OSError)
"""pika's connection and channel failures, and socket errors beneath them."""


def queue_arguments(options: AmqpOptions) -> dict[str, str]:
    return {"x-queue-type": "classic" if options.mirrored else options.queue_type}


def connection_parameters(addresses: str, process: int, timeout: float) -> list[pika.ConnectionParameters]:
    """Every node, the process's own first (process modulo nodes): clients spread over the cluster, and one whose
    node is down connects to the next."""
    hosts = [address.rsplit(":", 1) for address in addresses.split(",")]
    first = process % len(hosts)
    return [pika.ConnectionParameters(host, int(port), heartbeat=HEARTBEAT_S, socket_timeout=timeout,
                                      blocked_connection_timeout=timeout, connection_attempts=1)
            for host, port in hosts[first:] + hosts[:first]]


class AmqpClient:
    def __init__(self, spec: TestSpec, addresses: str, process: int) -> None:
        self.options = spec.options_as(AmqpOptions)
        self.timeout = spec.op_timeout
        self.connection = pika.BlockingConnection(connection_parameters(addresses, process, spec.op_timeout))
        self.channel = self.connection.channel()
        self.channel.confirm_delivery()
        self.expired = False

    def invoke(self, op: dict[str, Any]) -> Completion:
        if op["f"] == "enqueue":
            return self._bounded(lambda: self._enqueue(op["value"]))
        if op["f"] == "dequeue":
            return self._bounded(self._dequeue)
        if op["f"] == "drain":
            return self._drain()
        raise ValueError(f"unknown AMQP op {op['f']!r}")

    def close(self) -> None:
        if self.connection.is_open:
            try:
                self.connection.close()
            except CONNECTION_ERRORS:
                pass

    def _enqueue(self, value: int) -> Completion:
        mode = pika.DeliveryMode.Persistent if self.options.persistent else pika.DeliveryMode.Transient
        properties = pika.BasicProperties(delivery_mode=mode)
        try:
            self.channel.basic_publish("", self.options.amqp_queue, str(value).encode(), properties, mandatory=True)
        except pika.exceptions.NackError:
            return failed("nacked by the broker")
        except pika.exceptions.UnroutableError:
            return failed("returned unroutable: no queue took it (none by that name, or a classic queue whose node "
                          "is down)")
        except CONNECTION_ERRORS as error:
            return unknown(self._why(error))
        return ok(value)

    def _dequeue(self) -> Completion:
        try:
            method, _, body = self.channel.basic_get(self.options.amqp_queue, auto_ack=False)
        except CONNECTION_ERRORS as error:
            return unknown(self._why(error))
        if method is None:
            return ok(None)
        value = int(body)
        try:
            self.channel.basic_ack(method.delivery_tag)
            self.connection.process_data_events(0)
        except CONNECTION_ERRORS as error:
            return {"type": "info", "value": value, "error": f"delivered, ack unknown: {self._why(error)}"}
        return ok(value)

    def _drain(self) -> Completion:
        """Dequeues until the queue answers empty; the values got so far, even when it ends early (info)."""
        values: list[int] = []
        while True:
            outcome = self._bounded(self._dequeue)
            if outcome.get("value") is not None:
                values.append(outcome["value"])
            if outcome["type"] != "ok":
                return {"type": "info", "value": values, "error": outcome.get("error", "")}
            if outcome["value"] is None:
                return ok(values)

    def _bounded(self, action: Callable[[], Completion]) -> Completion:
        """`action`, its connection closed by a timer when it takes longer than op_timeout (so it ends info).

        The connection may be closed already (the timer fired as the previous op of a drain completed, or the broker
        closed it): the op then ends info here, as pika refuses a timer on a closed connection with a ValueError that
        would end a drain without the messages it got."""
        if not self.connection.is_open:
            return unknown(self._why(ConnectionError("the connection is closed")))
        timer = self.connection.call_later(self.timeout, self._expire)
        try:
            return action()
        finally:
            if self.connection.is_open:
                self.connection.remove_timeout(timer)

    def _expire(self) -> None:
        self.expired = True
        self.connection.close()

    def _why(self, error: BaseException) -> str:
        cause = f"{type(error).__name__}: {error}"
        return f"timed out after {self.timeout:g}s ({cause})" if self.expired else cause


def open_client(spec: TestSpec, addresses: str, process: int) -> AmqpClient:
    return AmqpClient(spec, addresses, process)


def declare_queue(spec: TestSpec, addresses: str) -> None:
    """The run's queue, of its type, durable or not; a queue type RabbitMQ does not have is refused by the broker here."""
    options = spec.options_as(AmqpOptions)
    connection = pika.BlockingConnection(connection_parameters(addresses, 0, spec.op_timeout))
    try:
        connection.channel().queue_declare(options.amqp_queue, durable=options.durable,
                                           arguments=queue_arguments(options))
    finally:
        connection.close()
