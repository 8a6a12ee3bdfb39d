"""Broker throughput and produce latency from a real librdkafka client, side by side with RabbitMQ in the same run.

One `logquake broker` process, a 6-partition topic per acks setting, 100-byte
messages from one confluent-kafka producer with linger.ms=5: produce msg/s,
MB/s and the p50/p99 of each message's produce()-to-delivery-report time,
then one consumer assigned to all 6 partitions reads one topic from offset 0.
RabbitMQ is the baseline: a durable classic queue, persistent messages,
publisher confirms kept in flight as a window, driven by the benchmarks' AMQP
client.

Each phase also records CPU time: the client (this process), the server, and
everything else on the machine, because other work may share its cores. A side
is named the limit when one of its threads was near a full core; when nothing
was, but the machine was full, the side spending more CPU per message is named;
otherwise the phase was waiting, not computing.

    python -m benchmarks broker_throughput [--messages=N] [--rabbitmq-messages=N] [--smoke] [--no-rabbitmq]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
from confluent_kafka import Consumer, KafkaException, TopicPartition

from benchmarks._amqp import ConfirmedPublisher, Drainer
from benchmarks._cpu import Usage, load_average, measured
from benchmarks._kafka import (CONSUMER_CONFIG, MESSAGE_BYTES, PARTITIONS, PRODUCER_CONFIG, check_stored,
                               create_topics, describe, produce_measured)
from benchmarks._rabbitmq import RabbitMQNode, RabbitMQUnavailable
from benchmarks._table import print_table
from cluster.deploy.broker_process import BrokerProcess

PRODUCE_GOAL = 300_000
CONSUME_GOAL = 500_000
RABBITMQ_RATIO_GOAL = 5.0
CONSUME_BATCH = 10_000
RABBITMQ_PREFETCH = 2_000
"""Unacknowledged deliveries the consumer may hold; it acks with multiple=True every quarter of this."""


@dataclass(frozen=True)
class Result:
    system: str
    operation: str
    messages: int
    usage: Usage
    latencies: list[float] | None = None

    @property
    def rate(self) -> float:
        return self.messages / self.usage.seconds

    def percentile(self, fraction: float) -> float | str:
        if not self.latencies:
            return "-"
        return 1e3 * self.latencies[min(int(len(self.latencies) * fraction), len(self.latencies) - 1)]


def main(argv: list[str]) -> None:
    options = _parse(argv)
    print(f"{psutil.cpu_count()} cores, load average {load_average()} at start; {MESSAGE_BYTES}-byte messages, "
          f"{PARTITIONS} partitions, {options.messages:,} per Kafka phase, {options.rabbitmq_messages:,} per RabbitMQ phase")
    print(f"producer: {describe(PRODUCER_CONFIG)} (librdkafka defaults otherwise)")
    print(f"consumer: {describe(CONSUMER_CONFIG)}, consume(num_messages={CONSUME_BATCH:,})")
    kafka = _kafka_results(options.messages)
    rabbitmq = [] if options.no_rabbitmq else _rabbitmq_results(options.rabbitmq_messages, options.window)
    print(f"load average {load_average()} at end (1, 5, 15 min)")
    _print_results(kafka + rabbitmq)
    _print_cpu(kafka + rabbitmq)
    _print_goals(kafka, rabbitmq)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks broker_throughput")
    parser.add_argument("--messages", type=int, default=2_000_000, help="messages per Kafka phase (default 2,000,000)")
    parser.add_argument("--rabbitmq-messages", type=int, default=100_000,
                        help="messages per RabbitMQ phase (default 100,000)")
    parser.add_argument("--window", type=int, default=1_000, help="RabbitMQ publisher confirms in flight (default 1,000)")
    parser.add_argument("--smoke", action="store_true", help="a quick run: 100,000 Kafka and 5,000 RabbitMQ messages")
    parser.add_argument("--no-rabbitmq", action="store_true", help="measure the broker alone")
    options = parser.parse_args(argv)
    if options.smoke:
        options.messages, options.rabbitmq_messages = 100_000, 5_000
    if min(options.messages, options.rabbitmq_messages, options.window) < 1:
        parser.error("--messages, --rabbitmq-messages and --window must be positive")
    return options


# -- the logquake broker through librdkafka ---------------------------------------------------------------------


def _kafka_results(count: int) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="logquake-bench-") as work:
        broker = BrokerProcess(Path(work) / "data").start()
        try:
            server = [_child_listening_on(broker.port)]
            topics = {"1": "bench-acks-1", "all": "bench-acks-all"}
            create_topics(broker.bootstrap, list(topics.values()))
            results = [_produce_phase(broker.bootstrap, server, topic, acks, count) for acks, topic in topics.items()]
            for topic in topics.values():
                check_stored(broker.bootstrap, topic, count)
            results.append(_consume_phase(broker.bootstrap, server, topics["1"], count))
        finally:
            broker.stop()
    return results


def _child_listening_on(port: int) -> psutil.Process:
    """BrokerProcess keeps its Popen private; the broker is the child of this process started with its port."""
    for child in psutil.Process().children():
        if any(f":{port}" in arg for arg in child.cmdline()):
            return child
    raise RuntimeError(f"no child process of this benchmark serves port {port}")


def _produce_phase(bootstrap: str, server: list[psutil.Process], topic: str, acks: str, count: int) -> Result:
    usage, latencies = produce_measured(bootstrap, server, topic, acks, count)
    return Result("logquake", f"produce acks={acks}", count, usage, latencies)


def _consume_phase(bootstrap: str, server: list[psutil.Process], topic: str, count: int) -> Result:
    consumer = Consumer({"bootstrap.servers": bootstrap, **CONSUMER_CONFIG})
    try:
        _, usage = measured(server, lambda: _consume(consumer, topic, count))
    finally:
        consumer.close()
    return Result("logquake", "consume", count, usage)


def _consume(consumer: Consumer, topic: str, count: int) -> None:
    consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    received, deadline = 0, time.monotonic() + 300
    while received < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{topic}: read {received:,} of {count:,} messages in 300 s")
        for message in consumer.consume(num_messages=CONSUME_BATCH, timeout=1.0):
            if message.error():
                raise KafkaException(message.error())
            received += 1


# -- RabbitMQ through the AMQP client ----------------------------------------------------------------------------


def _rabbitmq_results(count: int, window: int) -> list[Result]:
    node = RabbitMQNode()
    try:
        node.start()
    except RabbitMQUnavailable as error:
        print(f"RabbitMQ comparison skipped: {error}")
        return []
    try:
        server = node.server_processes()
        queue = "logquake-bench"
        body = os.urandom(MESSAGE_BYTES)
        latencies, usage = measured(server, lambda: ConfirmedPublisher(node.port, queue, body, count, window).run())
        published = Result("rabbitmq", f"publish, {window:,} confirms in flight", count, usage, latencies)
        _, usage = measured(server, lambda: Drainer(node.port, queue, count, RABBITMQ_PREFETCH).run())
        return [published, Result("rabbitmq", "consume", count, usage)]
    finally:
        node.stop()


# -- output ------------------------------------------------------------------------------------------------------


def _print_results(results: list[Result]) -> None:
    print_table(["system", "operation", "messages", "msg/s", "MB/s", "p50 ms", "p99 ms"],
                [[r.system, r.operation, r.messages, round(r.rate), r.rate * MESSAGE_BYTES / 1e6, r.percentile(0.50),
                  r.percentile(0.99)] for r in results])


def _print_cpu(results: list[Result]) -> None:
    print(f"CPU while each phase ran, in cores (CPU seconds per second of the {psutil.cpu_count()} here): the client "
          f"is this process, 'other' is everything else on the machine")
    rows = []
    for r in results:
        u = r.usage
        rows.append([r.system, r.operation, u.cores(u.client), u.cores(u.client_peak), u.cores(u.server),
                     u.cores(u.server_peak), u.cores(u.others), 1e6 * u.client / r.messages,
                     1e6 * u.server / r.messages, u.limit()])
    print_table(["system", "operation", "client cores", "busiest client thread", "server cores",
                 "busiest server thread", "other cores", "client CPU us/msg", "server CPU us/msg", "limit"], rows)


def _print_goals(kafka: list[Result], rabbitmq: list[Result]) -> None:
    rates = {r.operation: r.rate for r in kafka}
    publish = next((r.rate for r in rabbitmq if r.operation.startswith("publish")), None)
    consume = next((r.rate for r in rabbitmq if r.operation == "consume"), None)
    rows: list[list[object]] = []
    for acks in ("1", "all"):
        rate = rates[f"produce acks={acks}"]
        rows.append([f"produce acks={acks} msg/s", round(rate), f">= {PRODUCE_GOAL:,}", _yes(rate >= PRODUCE_GOAL)])
        rows.append(_ratio_row(f"produce acks={acks} / RabbitMQ publish", rate, publish, RABBITMQ_RATIO_GOAL))
    rows.append(["consume msg/s", round(rates["consume"]), f">= {CONSUME_GOAL:,}", _yes(rates["consume"] >= CONSUME_GOAL)])
    rows.append(_ratio_row("consume / RabbitMQ consume", rates["consume"], consume, None))
    print_table(["goal", "measured", "target", "met"], rows)


def _ratio_row(name: str, rate: float, baseline: float | None, goal: float | None) -> list[object]:
    if baseline is None:
        return [name, "n/a", "RabbitMQ not run" if goal else "-", "n/a" if goal else "-"]
    ratio = rate / baseline
    return [name, f"{ratio:.1f}x", f">= {goal:.0f}x" if goal else "(no goal)", _yes(ratio >= goal) if goal else "-"]


def _yes(met: bool) -> str:
    return "yes" if met else "NO"
