"""pytest plugin of mockpipe: the emulator as a fixture (registered through the `pytest11` entry point)."""
