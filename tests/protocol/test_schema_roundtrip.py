"""Every API, version and direction: encode then decode gives back the same message."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.protocol.catalogue import CODECS, codec_of, schema_of
from tests.protocol.strategies import message


@pytest.mark.parametrize("api, version, direction", CODECS)
@settings(max_examples=15)
@given(data=st.data())
def test_encode_then_decode_is_identity(api, version, direction, data):
    codec = codec_of(api, version, direction)
    value = data.draw(message(schema_of(api, direction), version))
    encoded = codec.encode(value)
    assert codec.decode(encoded) == value
    assert b"".join(codec.encode_parts(value)) == encoded
