#!/bin/sh
# The node layer, run in a container of the dependency layer with the build context at /build and
# no network: logquake itself, from the wheel built on the host (it holds a compiled module, and the
# image has no Rust toolchain to build one).
set -eu
/opt/logquake/bin/pip install --quiet --no-cache-dir --no-index --no-deps /build/wheel/*.whl
