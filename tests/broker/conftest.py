import pytest

from tests.broker.process import BrokerProcess


@pytest.fixture
def broker(tmp_path):
    with BrokerProcess(tmp_path / "data") as running:
        yield running
