"""Where the wall-clock shift library is, and what a node process's environment gains to load it."""

from __future__ import annotations

from pathlib import Path

CONTROL_ENV = "LOGQUAKE_CLOCK_FILE"
"""The variable that names the control file to the library; unset, or naming no valid file, means true time."""

LIBRARY_NAME = "clock_shift.abi3.so"
"""The name pip gives the library: pyproject.toml builds it with the stable ABI's suffix, which does
not depend on the Python that ran the build."""


def library_path() -> Path:
    """The built preload library, beside this module (pip builds it there from native/clock_shift/)."""
    built = Path(__file__).with_name(LIBRARY_NAME)
    if not built.is_file():
        raise FileNotFoundError(f"the clock shift library {built} is not built: run `make install`, "
                                f"which compiles native/clock_shift/ with cargo")
    return built


def preload_environment(library: str, control_file: str) -> dict[str, str]:
    """What a node process's environment gains, with paths as that process sees them (in a
    container, container paths)."""
    return {"LD_PRELOAD": str(library), CONTROL_ENV: str(control_file)}
