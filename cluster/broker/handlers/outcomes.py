"""What a handler returns instead of a body when there is nothing to encode."""

NO_RESPONSE = object()
"""acks=0: the client expects no answer at all."""

CLOSE_CONNECTION = object()
"""acks=0 with an error: Kafka closes the connection so the producer refreshes its metadata."""
