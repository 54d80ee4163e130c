"""The emulator: the ASGI app, the tracking endpoints (ingest), faults, the HTTP APIs under
`/mockpipe/`, CORS, browser settings, the web UI, and the server that runs it on Hypercorn."""
