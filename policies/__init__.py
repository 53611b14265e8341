"""Bundled policy files (data)."""
