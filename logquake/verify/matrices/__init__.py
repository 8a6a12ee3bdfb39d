"""The built-in matrices, shipped as package data: quick.toml, full.toml and rabbitmq.toml."""
