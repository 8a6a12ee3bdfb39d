"""`logquake serve`: a read-only web interface over a store (docs/serve.md)."""
