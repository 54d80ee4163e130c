"""The factories page's tour of the payload factories (run by test_doc_scripts)."""

from mockpipe import factories
from mockpipe.factories import DROP

factories.identify(seed=1)  # same seed, same payload, in any process
factories.track(channel="browser")  # "browser" | "server" | "mobile"
factories.track(event="Order Completed", userId="u1", properties={"coupon": "VIP15"})  # deep-merged
factories.page(channel="browser", context={"campaign": DROP})  # DROP removes a field, at any depth
factories.track(semantic=True)  # only semantic events (False: never)
factories.batch(size=20, channel="mobile")  # one person's session, as the SDK wraps it
factories.batch([factories.track(seed=n) for n in range(3)])  # or items of your own, as they are
