"""The fault filesystem: a pass-through FUSE file system that holds back unsynced writes as a
page cache does, loses them on a simulated power loss, and slows, fails or fills up on demand.
See docs/faultfs.md."""

from cluster.faultfs.control import DiskControl
from cluster.faultfs.durability import ENTRY_MODELS, JOURNALED, STRICT, LossReport
from cluster.faultfs.errors import FaultFSError
from cluster.faultfs.facility import fuse_unavailable
from cluster.faultfs.faults import OP_CLASSES, DiskFaults
from cluster.faultfs.mount import FaultMount, remove_stale_mounts
from cluster.faultfs.mountinfo import FS_TYPE

__all__ = ["ENTRY_MODELS", "FS_TYPE", "JOURNALED", "OP_CLASSES", "STRICT", "DiskControl", "DiskFaults",
           "FaultFSError", "FaultMount", "LossReport", "fuse_unavailable", "remove_stale_mounts"]
