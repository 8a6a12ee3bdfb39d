"""20,000 seeded fuzzed jute frames against a real keeper: answered or refused as ZooKeeper does, nothing
internal logged, no persistent znode changed by what was refused, kazoo served in the middle and at the end."""

import pytest

from tests.fuzzing.slice import assert_slice_is_clean


@pytest.mark.slow
def test_seeded_slice_of_keeper_fuzzing_finds_nothing(tmp_path) -> None:
    assert_slice_is_clean("keeper", tmp_path)
