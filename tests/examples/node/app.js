// The app under test: a small order service that reports what its users do through
// @customerio/cdp-analytics-node. It reads the host and write key from the environment, as an
// app does; `mockpipe run` sets MOCKPIPE_URL and MOCKPIPE_WRITE_KEY (and CUSTOMERIO_CDP_HOST /
// CUSTOMERIO_CDP_WRITE_KEY) for the command it runs.
const { Analytics } = require('@customerio/cdp-analytics-node')

function createAnalytics () {
  return new Analytics({
    host: process.env.CUSTOMERIO_CDP_HOST ?? process.env.MOCKPIPE_URL,
    writeKey: process.env.CUSTOMERIO_CDP_WRITE_KEY ?? process.env.MOCKPIPE_WRITE_KEY,
    maxEventsInBatch: 1, // one request per call: tests need not wait for a batch to fill (or 10 s)
    maxRetries: 0
  })
}

function signUp (analytics, user) {
  analytics.identify({ userId: user.id, traits: { email: user.email, plan: user.plan } })
  analytics.track({ userId: user.id, event: 'Signed Up', properties: { plan: user.plan } })
}

function completeOrder (analytics, user, order) {
  analytics.track({
    userId: user.id,
    event: 'Order Completed',
    properties: { order_id: order.id, revenue: order.total, currency: 'USD' }
  })
}

function viewPage (analytics, user, name) {
  analytics.page({ userId: user.id, name, properties: { path: `/${name.toLowerCase()}` } })
}

module.exports = { createAnalytics, signUp, completeOrder, viewPage }
