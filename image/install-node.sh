#!/bin/sh
# The node layer, run in a container of the dependency layer with a scratch copy of the checkout's
# sources at /build/source and no network: logquake itself, built by the backend the dependency layer holds.
set -eu
/opt/logquake/bin/pip install --quiet --no-cache-dir --no-index --no-deps --no-build-isolation /build/source
