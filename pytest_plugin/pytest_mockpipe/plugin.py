"""Fixtures and hooks of the mockpipe pytest plugin."""
