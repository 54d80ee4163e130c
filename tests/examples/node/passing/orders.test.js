// The example suite: the app's calls, asserted through mockpipe's HTTP API. Run it with
//   mockpipe run -- node --test tests/examples/node/passing/
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const { createAnalytics, signUp, completeOrder, viewPage } = require('../app')
const { expectCall, settle } = require('../mockpipe')

const analytics = createAnalytics()
after(() => analytics.closeAndFlush())

test('a sign-up identifies the user and tracks the event', async () => {
  signUp(analytics, { id: 'u-1', email: 'ada@example.com', plan: 'pro' })
  const [identify] = await expectCall('identify', { userId: 'u-1', traits: { email: 'ada@example.com' } })
  assert.equal(identify.traits.plan, 'pro')
  await expectCall('track', { event: 'Signed Up', userId: 'u-1', properties: { plan: 'pro' } }, { count: 1 })
})

test('an order is tracked once, with its revenue', async () => {
  completeOrder(analytics, { id: 'u-2' }, { id: 'o-9', total: 99.5 })
  const [order] = await expectCall(
    'track',
    { event: 'Order Completed', userId: 'u-2', properties: { revenue: 99.5, order_id: 'o-9' } },
    { count: 1 }
  )
  assert.equal(order.properties.currency, 'USD')
})

test('settle waits until every request sent has been processed', async () => {
  for (const name of ['Home', 'Pricing', 'Docs']) viewPage(analytics, { id: 'u-3' }, name)
  const seen = await settle({ quiet: 0.3 })
  assert.equal(seen.settled, true)
  assert.equal(seen.inFlight, 0)
  const pages = await expectCall('page', { userId: 'u-3' }, { count: 3 })
  assert.deepEqual(pages.map((page) => page.name), ['Home', 'Pricing', 'Docs'])
})

test('a failed expectation explains itself', async () => {
  completeOrder(analytics, { id: 'u-4' }, { id: 'o-10', total: 12 })
  await expectCall('track', { event: 'Order Completed', userId: 'u-4' })
  await assert.rejects(
    expectCall('track', { event: 'Order Completed', userId: 'u-4', properties: { revenue: 13 } }, { timeout: 0.2 }),
    /properties\.revenue: expected 13, got 12/
  )
})
