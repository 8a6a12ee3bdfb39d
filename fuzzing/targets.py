"""The servers a campaign can fuzz, by name."""

from __future__ import annotations

from fuzzing.broker_follower_target import BrokerFollowerTarget
from fuzzing.broker_target import BrokerTarget
from fuzzing.keeper_peer_target import KeeperPeerTarget
from fuzzing.keeper_target import KeeperTarget

TARGETS = {"broker": BrokerTarget, "broker-follower": BrokerFollowerTarget, "keeper": KeeperTarget,
           "keeper-peer": KeeperPeerTarget}
