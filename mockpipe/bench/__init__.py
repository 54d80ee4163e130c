"""`mockpipe bench`: the emulator against a bare Hypercorn app and a naive recorder, in one run, as ratios.

Loaded only by `mockpipe bench`: nothing else imports this package.
"""
