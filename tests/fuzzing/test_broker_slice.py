"""20,000 seeded fuzzed Kafka frames against a real broker: answered or refused as Kafka does, nothing
internal logged, no data changed by what was refused, kafka-python served in the middle and at the end."""

import pytest

from tests.fuzzing.slice import assert_slice_is_clean


@pytest.mark.slow
def test_seeded_slice_of_broker_fuzzing_finds_nothing(tmp_path) -> None:
    assert_slice_is_clean("broker", tmp_path)
