"""Starting, configuring and stopping a broker as a user would."""

import socket
import subprocess
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from cluster.deploy.broker_process import BrokerProcess
from cluster.deploy.ports import free_port
from tests.kafka_groups import wait_for_assignment


def values_in(bootstrap: str, topic: str, expected: int) -> list[bytes]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    consumer.assign([TopicPartition(topic, 0)])
    values: list[bytes] = []
    deadline = time.monotonic() + 30
    while len(values) < expected and time.monotonic() < deadline:
        values += [r.value for records in consumer.poll(timeout_ms=500).values() for r in records]
    consumer.close()
    return values


def test_sigterm_shuts_down_cleanly_and_a_restart_serves_everything(tmp_path):
    broker = BrokerProcess(tmp_path / "data").start()
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    for i in range(500):
        producer.send("kept", value=b"%d" % i)
    producer.flush()
    producer.close()
    assert broker.stop() == 0
    assert "shutting down" in broker.log_text()
    broker.start()
    try:
        assert values_in(broker.bootstrap, "kept", 500) == [b"%d" % i for i in range(500)]
        assert "recover" not in broker.log_text().split("shutting down")[-1].lower()
    finally:
        broker.kill()


def test_a_server_properties_file_and_overrides(tmp_path):
    port = free_port()
    config = tmp_path / "server.properties"
    config.write_text(f"# as for Kafka\nbroker.id=3\nlisteners=PLAINTEXT://127.0.0.1:{port}\n"
                      f"log.dirs={tmp_path / 'from-file'}\nnum.partitions=2\n")
    process = subprocess.Popen([sys.executable, "-m", "logquake", "broker", "--config", str(config),
                                "--override", "num.partitions=4"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert b"broker 3 serving on" in process.stdout.readline()
        admin = KafkaAdminClient(bootstrap_servers=f"127.0.0.1:{port}")
        admin.create_topics([NewTopic("defaults", -1, -1)])
        assert len(admin.describe_topics(["defaults"])[0]["partitions"]) == 4
        admin.close()
        assert (tmp_path / "from-file" / "defaults-3").is_dir()
    finally:
        process.kill()
        process.wait()


def test_wrong_configuration_is_refused_by_name(tmp_path):
    result = subprocess.run([sys.executable, "-m", "logquake", "broker", "--override", "log.segment.bytes=tiny",
                             "--override", f"log.dirs={tmp_path}"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "log.segment.bytes must be an integer" in result.stderr
    result = subprocess.run([sys.executable, "-m", "logquake", "broker", "--override", "compression.typo=lz4"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "unsupported broker property: compression.typo" in result.stderr


def test_no_arguments_means_localhost_9092_and_data_under_dot_data(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "logquake", "broker"], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert process.stdout.readline().decode().strip() == "broker 0 serving on 127.0.0.1:9092 with data in data"
        socket.create_connection(("127.0.0.1", 9092), timeout=5).close()
        assert (tmp_path / "data" / "meta.properties").exists()
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0


def test_delete_topics_removes_the_data(broker):
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    admin.create_topics([NewTopic("doomed", 2, 1)])
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    producer.send("doomed", value=b"x").get(timeout=10)
    producer.close()
    admin.delete_topics(["doomed"])
    assert "doomed" not in admin.list_topics()
    assert not list(broker.data_dir.glob("doomed-*"))
    admin.close()


def test_describe_and_list_groups(broker):
    consumer = KafkaConsumer("described", bootstrap_servers=broker.bootstrap, group_id="watchers",
                             auto_offset_reset="earliest", client_id="watcher-1")
    wait_for_assignment(consumer, ["described"])
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    assert {"group_id": "watchers", "protocol_type": "consumer"} in admin.list_groups()
    group = admin.describe_groups(["watchers"])["watchers"]
    assert (group["group_state"], group["protocol_type"], group["protocol_data"]) == ("Stable", "consumer", "range")
    [member] = group["members"]
    assert member["client_id"] == "watcher-1" and member["client_host"] == "127.0.0.1"
    assert member["member_assignment"]["assigned_partitions"] == [{"topic": "described", "partitions": [0]}]
    consumer.close()
    admin.close()
