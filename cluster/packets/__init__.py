"""Packet faults without netem: an NFQUEUE handler in user space that delays, duplicates, reorders or corrupts.

handling.py decides each packet's fate (pure logic), handler.py is the process that applies it to what
iptables queues, process.py starts and stops one from the harness. Where the rules go and which packets
they queue is the deployment's business (cluster/deploy/packet_rules.py); docs/packet-faults.md says it all.
"""
