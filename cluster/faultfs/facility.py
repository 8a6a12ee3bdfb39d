"""Whether this machine can mount a fault filesystem, said before anything runs."""

from __future__ import annotations

import ctypes.util
import importlib.util
import os
import shutil


def fuse_unavailable() -> str | None:
    """Why this machine cannot mount a fault filesystem, or None when it can."""
    if not os.path.exists("/dev/fuse"):
        return "/dev/fuse does not exist (no FUSE in this kernel or container)"
    if shutil.which("fusermount3") is None:
        return "fusermount3 is not on PATH (Debian package fuse3)"
    if ctypes.util.find_library("fuse3") is None:
        return "libfuse3 is not installed (Debian package fuse3 brings libfuse3-3)"
    if importlib.util.find_spec("mfusepy") is None:
        return "the Python package mfusepy is not installed (pip install mfusepy)"
    if os.geteuid() != 0:
        return "not root: the mounts need allow_other so that container processes reach them"
    return None
