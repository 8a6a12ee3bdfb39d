"""Kafka's meta.properties: which cluster and broker id a log directory belongs to."""

from __future__ import annotations

import uuid
from pathlib import Path

from cluster import durable_file, properties

META_PROPERTIES = "meta.properties"


def load_cluster_id(directory: Path, broker_id: int) -> str:
    """The directory's cluster id, written afresh on first use; a directory of another broker id is refused."""
    durable_file.make_directory(directory)
    path = directory / META_PROPERTIES
    if path.exists():
        meta = properties.load(path)
        stored_id = meta.get("broker.id")
        if stored_id is not None and stored_id != str(broker_id):
            raise ValueError(f"{path} belongs to broker.id={stored_id}, but this broker is broker.id={broker_id}")
        if meta.get("cluster.id"):
            return meta["cluster.id"]
    cluster_id = uuid.uuid4().hex[:22]
    durable_file.write_atomically(path, f"version=0\nbroker.id={broker_id}\ncluster.id={cluster_id}\n".encode())
    return cluster_id
