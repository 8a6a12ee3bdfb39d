"""Every (API, version, direction) codec, as pytest parameters."""

from __future__ import annotations

import pytest

from cluster.broker.protocol.apis import APIS

CODECS = [
    pytest.param(api, version, direction, id=f"{api.name}-v{version}-{direction}")
    for api in APIS.values()
    for version in range(api.min_version, api.max_version + 1)
    for direction in ("request", "response")
]


def codec_of(api, version: int, direction: str):
    codecs = api.request_codecs if direction == "request" else api.response_codecs
    return codecs[version]


def schema_of(api, direction: str):
    return api.request if direction == "request" else api.response
