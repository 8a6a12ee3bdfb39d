"""Kafka wire codecs: request/response framing and headers, API schemas, RecordBatch v2."""
