"""The emulator: the ASGI app, the tracking endpoints (ingest), faults, the HTTP APIs under
`/mockpipe/`, CORS, browser settings, the web UI, and the server that runs it on Hypercorn.

`emulator.Emulator` assembles the parts (journal, faults, people, live feed, store, recording,
forwarding); `app.create_app` serves one over ASGI; `server.MockPipeServer` runs that on a thread.
Only the modules that answer HTTP import Starlette: `ingest`, `faults`, `fault_specs`,
`fault_delivery`, `error_body`, `emulator` and `live_feed` need no web stack.
"""
