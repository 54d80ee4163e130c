"""The API's contract: the rule catalogue, the validator, enrichment and request decoding.

Pure functions over parsed JSON: nothing here imports a web framework, so `mockpipe validate`,
the factories and any script can check calls without starting a server.
"""
