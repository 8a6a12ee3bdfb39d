"""The built-in matrices, shipped as package data: quick.toml and full.toml."""
