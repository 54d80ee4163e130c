"""The factories page's Faker provider example (run by test_doc_scripts)."""

from faker import Faker

from mockpipe.factories import PipelinesProvider

fake = Faker()
fake.add_provider(PipelinesProvider)  # works with the pytest `faker` fixture too
fake.seed_instance(3)
fake.track_payload(channel="mobile")  # identify_/track_/page_/screen_/group_/alias_/batch_payload,
fake.invalid_payload("id.number")  # and invalid_payload(rule)
