"""The test kit without pytest: waiting assertions with near-miss explanations, and syrupy snapshots of calls.

The pytest plugin (`pytest_mockpipe`) wires these into fixtures; `MockPipe(server)` works in unittest too.
"""
