// Assertions over HTTP against mockpipe: POST /mockpipe/expect and GET /mockpipe/settle.
// Nothing here is Node-specific but `fetch`: the same two requests work from any language.
const assert = require('node:assert/strict')

const url = process.env.MOCKPIPE_URL
const writeKey = process.env.MOCKPIPE_WRITE_KEY

// Resolves with the matching calls once they land; rejects with mockpipe's explanation (the
// closest calls and the fields that differ, refused calls, other write keys) after `timeout`.
async function expectCall (type, fields = {}, { count, timeout = 5, accepted } = {}) {
  const response = await fetch(`${url}/mockpipe/expect`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ type, writeKey, fields, count, timeout, accepted })
  })
  const body = await response.json()
  if (response.status === 409) assert.fail(body.message)
  assert.equal(response.status, 200, body.message)
  return body.calls.map((call) => call.payload)
}

// Resolves once no request of this key has been in flight for `quiet` seconds.
async function settle ({ quiet = 0.2, timeout = 10 } = {}) {
  const query = new URLSearchParams({ writeKey, quiet, timeout })
  const response = await fetch(`${url}/mockpipe/settle?${query}`)
  const body = await response.json()
  assert.equal(response.status, 200, body.message)
  return body
}

module.exports = { expectCall, settle, url, writeKey }
