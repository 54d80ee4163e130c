// A suite whose calls break the spec: every test passes (the emulator, permissive like production,
// accepts invalid calls), but `mockpipe run` exits 1 and its JUnit report names the rules broken.
const { test, after } = require('node:test')
const { createAnalytics } = require('../app')
const { expectCall } = require('../mockpipe')

const analytics = createAnalytics()
after(() => analytics.closeAndFlush())

test('a call on a channel the service does not know', async () => {
  analytics.track({ userId: 'u-1', event: 'Order Completed', context: { channel: 'tv' } })
  await expectCall('track', { event: 'Order Completed' })
})

test('a group whose object type id is not a number', async () => {
  analytics.group({ userId: 'u-1', groupId: 'acme', traits: { name: 'Acme', object_type_id: 'company' } })
  await expectCall('group', { groupId: 'acme' })
})
