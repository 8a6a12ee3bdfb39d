"""Where the wall-clock shift library is, and what a node process's environment gains to load it."""

from __future__ import annotations

from pathlib import Path

CONTROL_ENV = "LOGQUAKE_CLOCK_FILE"
"""The variable that names the control file to the library; unset, or naming no valid file, means true time."""

LIBRARY_STEM = "clock_shift"


def library_path() -> Path:
    """The built preload library, beside this module (pip builds it there from native/clock_shift/)."""
    here = Path(__file__).parent
    built = sorted(here.glob(f"{LIBRARY_STEM}*.so"))
    if not built:
        raise FileNotFoundError(f"the clock shift library ({here}/{LIBRARY_STEM}*.so) is not built: "
                                f"run `make install`, which compiles native/clock_shift/ with cargo")
    return built[0]


def preload_environment(library: str, control_file: str) -> dict[str, str]:
    """What a node process's environment gains, with paths as that process sees them (in a
    container, container paths)."""
    return {"LD_PRELOAD": str(library), CONTROL_ENV: str(control_file)}
