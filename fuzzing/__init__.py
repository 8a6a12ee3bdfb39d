"""Seeded fuzzing of the wire servers: the broker's Kafka protocol and the keeper's jute protocol.

A campaign starts a real server process, sends it mutated requests (field-level ones built
through the protocol schemas, byte-level ones on top), and judges every frame's effect: an
answer with the right correlation id and a known error code, or a closed connection for a
frame that cannot be parsed; no internal error in the server's log; stored data unchanged by
what was rejected; a real client still served. Failures are shrunk to a minimal frame.
`python -m fuzzing broker|keeper` runs one (docs/fuzzing.md).
"""
