"""`logquake cluster up`: a cluster of keepers and brokers that stays up after the command returns.

The nodes come from the same `Deployment` the harness runs use; the command only waits until
they serve (and, with keepers, until every broker has registered), writes the cluster record
(record.py) that `cluster status` and `cluster down` read, and leaves. Local nodes run in their own
sessions, so neither the command's exit nor a Ctrl-C in its terminal reaches them.
"""

from __future__ import annotations

import time
from pathlib import Path

import click
from kazoo.client import KazooClient
from kazoo.exceptions import KazooException, NoNodeError
from kazoo.handlers.threading import KazooTimeoutError

from cluster.broker.config import BrokerConfig
from cluster.deploy.backend import DeployError
from cluster.deploy.deployment import BACKENDS, ClusterSpec, Deployment, deploy
from cluster.deploy.node import KEEPER_KINDS, SYSTEMS, KeeperKind, NodeError, System
from cluster.deploy.rabbitmq import NET_TICKTIME_HELP, NET_TICKTIME_S, PARTITION_HANDLING
from cluster.deploy.record import DEFAULT_WORK_DIR, ClusterRecord
from cluster.properties import PropertiesError, parse_override

BROKER_IDS_PATH = "/brokers/ids"


def bring_up(spec: ClusterSpec, backend: str, work_dir: Path, timeout: float) -> ClusterRecord:
    """Start the cluster and record it; on any failure everything started is stopped again."""
    if ClusterRecord.exists(work_dir):
        raise DeployError(f"{work_dir} already holds a cluster: `logquake cluster down --work-dir {work_dir}` first")
    work_dir.mkdir(parents=True, exist_ok=True)
    deployment = deploy(spec, backend, work_dir.resolve())
    try:
        deployment.up(timeout)
        if deployment.keepers:
            wait_registered(deployment, timeout)
        return _recorded(deployment, work_dir)
    except BaseException:
        deployment.down()
        raise


def _recorded(deployment: Deployment, work_dir: Path) -> ClusterRecord:
    record = ClusterRecord.of(deployment)
    record.save(work_dir)
    return record


def wait_registered(deployment: Deployment, timeout: float) -> None:
    """A broker that accepts connections may not have joined yet: wait for its /brokers/ids znode."""
    expected = {str(broker.node_id) for broker in deployment.brokers}
    client = KazooClient(hosts=deployment.keeper_connect, timeout=timeout)
    registered: set[str] = set()
    try:
        client.start(timeout=timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            registered = _registered_ids(client)
            if expected <= registered:
                return
            _require_running(deployment)
            time.sleep(0.2)
    except (KazooException, KazooTimeoutError) as error:
        raise DeployError(f"cannot read {BROKER_IDS_PATH} from keeper {deployment.keeper_connect}: {error!r}") from None
    finally:
        client.stop()
        client.close()
    missing = sorted(expected - registered, key=int)
    tails = "\n".join(f"--- {b.name}:\n{b.log_tail()}" for b in deployment.brokers if str(b.node_id) in missing)
    raise DeployError(f"broker(s) {', '.join(missing)} did not register in keeper within {timeout:g}s:\n{tails}")


def _registered_ids(client: KazooClient) -> set[str]:
    try:
        return set(client.get_children(BROKER_IDS_PATH))
    except NoNodeError:
        return set()


def _require_running(deployment: Deployment) -> None:
    for node in deployment.nodes:
        if not node.is_running():
            raise NodeError(f"{node.name} exited:\n{node.log_tail()}")


def _overrides(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    try:
        return dict(parse_override(value) for value in values)
    except PropertiesError as error:
        raise click.BadParameter(str(error)) from None


@click.command("up")
@click.option("--system", type=click.Choice(SYSTEMS), default="logquake", show_default=True,
              help="Our Kafka-compatible cluster, or RabbitMQ 3.10 (its nodes are the brokers b1..bN).")
@click.option("--partition-handling", type=click.Choice(PARTITION_HANDLING), default="ignore", show_default=True,
              help="RabbitMQ's cluster_partition_handling (--system rabbitmq).")
@click.option("--net-ticktime", type=int, default=NET_TICKTIME_S, show_default=True, help=NET_TICKTIME_HELP)
@click.option("--brokers", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--keepers", type=click.IntRange(min=0), default=None,
              help="0 runs the brokers without keeper: each broker is then a cluster of its own (default: 3, or 0 for "
                   "--system rabbitmq).")
@click.option("--keeper-kind", type=click.Choice(KEEPER_KINDS), default="keeper", show_default=True,
              help="What the keeper nodes run: our keeper, or Apache ZooKeeper 3.8 on the same zoo.cfg.")
@click.option("--backend", type=click.Choice(BACKENDS), default="local", show_default=True,
              help="local: processes on 127.0.N.x; docker: containers of the node image (`logquake image build`).")
@click.option("--override", "broker_overrides", multiple=True, callback=_overrides, metavar="KEY=VALUE",
              help="A broker property (server.properties name) for every broker (repeatable).")
@click.option("--keeper-override", "keeper_overrides", multiple=True, callback=_overrides, metavar="KEY=VALUE",
              help="A zoo.cfg setting for every keeper (repeatable).")
@click.option("--work-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_WORK_DIR,
              show_default=True, help="Where the nodes keep their configs, data and logs, and the cluster record.")
@click.option("--timeout", type=click.FloatRange(min=1), default=120, show_default=True,
              help="Seconds to wait for each role to serve.")
def up_command(system: System, partition_handling: str, net_ticktime: int, brokers: int, keepers: int | None, keeper_kind: KeeperKind,
               backend: str, broker_overrides: dict[str, str], keeper_overrides: dict[str, str], work_dir: Path,
               timeout: float) -> None:
    """Start keepers, then brokers, wait until they serve, print where they are, and leave them running."""
    try:
        BrokerConfig.from_properties(broker_overrides)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--override") from None
    if keepers is None:
        keepers = 0 if system == "rabbitmq" else 3
    try:
        spec = ClusterSpec(keepers=keepers, brokers=brokers, broker_overrides=broker_overrides,
                           keeper_overrides=keeper_overrides, keeper_kind=keeper_kind, system=system,
                           partition_handling=partition_handling, net_ticktime=net_ticktime)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    try:
        record = bring_up(spec, backend, work_dir, timeout)
    except (DeployError, NodeError, OSError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{'AMQP nodes' if system == 'rabbitmq' else 'bootstrap servers'}: {record.bootstrap_servers}")
    click.echo(f"keeper connect:    {record.keeper_connect or 'none (no keepers)'}")
    click.echo(f"backend {record.backend}, run {record.run_id}, nodes and logs in {work_dir}")
    click.echo(f"status: logquake cluster status --work-dir {work_dir}; stop: logquake cluster down --work-dir {work_dir}")
