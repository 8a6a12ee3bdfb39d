"""The system under test (brokers and keepers) and the backends that deploy it."""
