#!/usr/bin/env node
// End-to-end driver for the Node tracking SDKs.
//
//   node driver.mjs <sdk> <baseUrl> <writeKey>
//   sdk: customerio-node | segment-node | analytics-node-legacy
//
// Sends one fixed scenario (identify, track, page, screen, group, alias) to
// <baseUrl>/v1/batch, waits until every call has been delivered (or has
// failed), then prints one JSON line: {"sdk", "sent": [...], "ok": true}.
// Any failure: message on stderr, exit code 1.
//
// Env: MAX_RETRIES sets the SDK's retry count (all three SDKs support one);
// unset keeps the SDK default. Back-off is always the SDK's own.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

const USER_ID = 'user-123'
const ANON_ID = 'anon-abc'

// The scenario, in SDK-neutral form. `args` is the object every Node SDK
// takes (the next-gen SDKs and the legacy one share this message shape).
const SCENARIO = [
  ['identify', {
    userId: USER_ID,
    anonymousId: ANON_ID,
    traits: { email: 'jane@example.com', name: 'Jane Doe', plan: 'pro', logins: 7 },
  }],
  ['track', {
    userId: USER_ID,
    event: 'Order Completed',
    properties: {
      order_id: 'o-1', revenue: 99.5, currency: 'USD',
      products: [{ sku: 'sku-1', qty: 2 }],
    },
    context: { campaign: { name: 'spring-sale', source: 'newsletter' }, ip: '203.0.113.7' },
  }],
  ['page', {
    userId: USER_ID,
    name: 'Pricing',
    category: 'Docs',
    properties: { url: 'https://example.com/pricing', title: 'Pricing', path: '/pricing' },
  }],
  ['screen', { userId: USER_ID, name: 'Home', properties: { tab: 'feed' } }],
  ['group', {
    userId: USER_ID,
    groupId: 'acme-inc',
    traits: { name: 'Acme Inc', employees: 42, object_type_id: '1' },
  }],
  ['alias', { previousId: ANON_ID, userId: USER_ID }],
]

function maxRetries() {
  const raw = process.env.MAX_RETRIES
  if (raw === undefined || raw === '') return undefined
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 0) throw new Error(`MAX_RETRIES must be an integer >= 0, got ${raw}`)
  return n
}

// Each factory returns { client, finish }: finish() pushes out whatever is
// still queued and resolves once the SDK has nothing pending.
const SDKS = {
  // @customerio/cdp-analytics-node and @segment/analytics-node share one
  // design (same authors' code base): callbacks fire per event on delivery,
  // closeAndFlush() drains the queue.
  'customerio-node': (host, writeKey, retries) => nextGen('@customerio/cdp-analytics-node', host, writeKey, retries),
  'segment-node': (host, writeKey, retries) => nextGen('@segment/analytics-node', host, writeKey, retries),

  'analytics-node-legacy': (host, writeKey, retries) => {
    const Analytics = require('analytics-node')
    const client = new Analytics(writeKey, {
      host,
      // retryCount 0 disables axios-retry entirely; unset keeps its 3.
      ...(retries !== undefined && { retryCount: retries }),
      // Without a handler, the failed auto-flush of the first call is an
      // unhandled rejection that kills the process; failures are reported
      // through the per-call callbacks instead.
      errorHandler: () => {},
    })
    // flush() sends at most flushAt (20) queued messages; our 6 fit. The
    // very first call was already posted on its own (legacy behaviour); its
    // callback, like the others', fires once its request is settled.
    return { client, finish: () => client.flush() }
  },
}

function nextGen(pkg, host, writeKey, retries) {
  const { Analytics } = require(pkg)
  const client = new Analytics({ writeKey, host, ...(retries !== undefined && { maxRetries: retries }) })
  // Delivery failures also reach the per-call callbacks (which decide the
  // exit code); this only makes each one visible on stderr as it happens.
  client.on('error', (e) => console.error(`[${pkg}] error event: ${e?.code} ${e?.reason ?? ''}`))
  return { client, finish: () => client.closeAndFlush() }
}

async function main() {
  const [sdk, baseUrl, writeKey] = process.argv.slice(2)
  if (!SDKS[sdk] || !baseUrl || !writeKey) {
    console.error(`usage: node driver.mjs <${Object.keys(SDKS).join('|')}> <baseUrl> <writeKey>`)
    process.exit(2)
  }
  const host = baseUrl.replace(/\/+$/, '')
  const { client, finish } = SDKS[sdk](host, writeKey, maxRetries())

  const sent = []
  const delivered = []
  for (const [type, args] of SCENARIO) {
    if (typeof client[type] !== 'function') {
      console.error(`[${sdk}] has no ${type}(); skipped`)
      continue
    }
    // Both SDK families call back with (err) once the event's HTTP request
    // has succeeded or finally failed after retries.
    delivered.push(new Promise((resolve) => {
      client[type](args, (err) => resolve(err ? `${type}: ${err.message ?? err}` : null))
    }))
    sent.push(type)
  }

  await finish()
  const errors = (await Promise.all(delivered)).filter(Boolean)
  if (errors.length) throw new Error(`delivery failed: ${errors.join('; ')}`)
  process.stdout.write(JSON.stringify({ sdk, sent, ok: true }) + '\n')
}

// If an SDK ever dropped a callback, the event loop would empty with main()
// still pending and Node would exit 0 without output; make that an error.
let finished = false
process.on('beforeExit', () => {
  if (!finished) {
    console.error('driver.mjs: event loop drained before every call was settled')
    process.exit(1)
  }
})

main().then(() => { finished = true }, (err) => {
  console.error(`driver.mjs: ${err?.stack ?? err}`)
  process.exit(1)
})
