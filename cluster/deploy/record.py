"""What `logquake cluster up` leaves in its work directory, so that `cluster status` and `cluster down`,
run later from other processes, find the cluster again.

The node processes (or containers) outlive the command that started them; the record says which
backend and run they belong to and where each node listens. It is plain JSON, readable by people.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from cluster.deploy import configs
from cluster.deploy.deployment import Deployment
from cluster.deploy.node import NodePlan

RECORD_FILE = "cluster.json"
DEFAULT_WORK_DIR = Path("logquake-cluster")
"""Where `cluster up` puts its nodes and `cluster status`/`cluster down` look, unless told otherwise."""


class RecordError(RuntimeError):
    """No cluster record in a directory, or one that cannot be read; the message says which and why."""


@dataclass(frozen=True)
class ClusterRecord:
    run_id: str
    backend: str
    nodes: tuple[NodePlan, ...]

    @classmethod
    def of(cls, deployment: Deployment) -> ClusterRecord:
        return cls(deployment.run_id, deployment.backend, tuple(node.plan for node in deployment.nodes))

    @property
    def keepers(self) -> list[NodePlan]:
        return [node for node in self.nodes if node.role == "keeper"]

    @property
    def brokers(self) -> list[NodePlan]:
        return [node for node in self.nodes if node.role == "broker"]

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(f"{broker.host}:{broker.port}" for broker in self.brokers)

    @property
    def keeper_connect(self) -> str:
        return configs.keeper_connect(self.keepers)

    def save(self, work_dir: Path) -> Path:
        path = work_dir / RECORD_FILE
        nodes = [asdict(node) for node in self.nodes]
        path.write_text(json.dumps({"run_id": self.run_id, "backend": self.backend, "nodes": nodes}, indent=2) + "\n")
        return path

    @classmethod
    def load(cls, work_dir: Path) -> ClusterRecord:
        path = work_dir / RECORD_FILE
        try:
            data = json.loads(path.read_text())
            nodes = tuple(_plan(fields) for fields in data["nodes"])
            return cls(str(data["run_id"]), str(data["backend"]), nodes)
        except FileNotFoundError:
            raise RecordError(f"no cluster in {work_dir}: {RECORD_FILE} is missing (start one with `logquake cluster up`)") from None
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise RecordError(f"{path} is not a cluster record: {error!r}") from None

    @staticmethod
    def exists(work_dir: Path) -> bool:
        return (work_dir / RECORD_FILE).is_file()


def _plan(fields: dict[str, object]) -> NodePlan:
    plan = NodePlan(**fields)  # type: ignore[arg-type]
    if plan.role not in ("keeper", "broker"):
        raise ValueError(f"unknown node role {plan.role!r}")
    return plan
