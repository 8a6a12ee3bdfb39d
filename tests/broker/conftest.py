import pytest

from cluster.deploy.broker_process import BrokerProcess


@pytest.fixture
def broker(tmp_path):
    with BrokerProcess(tmp_path / "data") as running:
        yield running
