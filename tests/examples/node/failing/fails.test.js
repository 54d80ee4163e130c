// One test that fails on purpose (it expects an event the app never sends): `mockpipe run` exits with
// node's status, and the test's output carries mockpipe's explanation.
const { test, after } = require('node:test')
const { createAnalytics, completeOrder } = require('../app')
const { expectCall } = require('../mockpipe')

const analytics = createAnalytics()
after(() => analytics.closeAndFlush())

test('an order is tracked', async () => {
  completeOrder(analytics, { id: 'u-1' }, { id: 'o-1', total: 5 })
  await expectCall('track', { event: 'Order Completed', userId: 'u-1' })
})

test('a refund is tracked (it never is: fails on purpose)', async () => {
  await expectCall('track', { event: 'Order Refunded', userId: 'u-1' }, { timeout: 0.5 })
})
