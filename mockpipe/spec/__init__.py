"""The API's contract: the rule catalogue, the validator, enrichment, request decoding and the time codec.

Pure functions over parsed JSON: nothing here imports a web framework, so `mockpipe validate`,
the factories and any script can check calls without starting a server.

A request goes: `decoding` (body bytes, encodings, credentials) -> `requests` (the body cut into
calls) -> `validator.violations_of` (the fast proof of `fastlane`, else every rule of `checks`, whose
codes and messages are catalogued in `rules`) -> `enrich` (what the service adds). `fields`, `limits`,
`jsonvalues` and `times` are what these share.
"""
