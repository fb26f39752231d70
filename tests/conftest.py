"""All shared fixtures live in tests/fixtures.py, loaded here as a plugin."""

pytest_plugins = ["tests.fixtures"]
