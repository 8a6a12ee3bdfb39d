import pytest

from cluster.deploy.broker_process import BrokerProcess

TRANSACTION_SETTINGS = {
    "offsets.topic.num.partitions": 1, "transaction.state.log.num.partitions": 1,
    "transaction.abort.timed.out.transaction.cleanup.interval.ms": 200, "group.initial.rebalance.delay.ms": 0,
}
"""One partition per internal topic, and transactions past their timeout aborted within a fifth of a second."""


@pytest.fixture(scope="package")
def broker(tmp_path_factory):
    """A broker alone shared by this folder's tests, which use topics and transactional ids of their own."""
    with BrokerProcess(tmp_path_factory.mktemp("broker") / "data", **TRANSACTION_SETTINGS) as running:
        yield running
