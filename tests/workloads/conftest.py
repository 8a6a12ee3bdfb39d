import pytest

from cluster.deploy.broker_process import BrokerProcess


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    """One real broker for the module; each test uses its own topic."""
    with BrokerProcess(tmp_path_factory.mktemp("broker") / "data") as running:
        yield running
