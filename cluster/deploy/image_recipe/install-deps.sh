#!/bin/sh
# The dependency layer, run in a container of the base image with the build context at /build
# and no network: a venv with logquake's runtime dependencies from the wheelhouse downloaded on the host.
# (bookworm's system python refuses pip: PEP 668.)
set -eu
python3 -m venv /opt/logquake
/opt/logquake/bin/pip install --quiet --no-cache-dir --no-index --find-links /build/wheelhouse \
    -r /build/wheelhouse/requirements.txt
