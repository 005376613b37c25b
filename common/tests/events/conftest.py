import contextlib
import uuid

import pytest

from common.tests.events.names import events_options
from common.tests.events.support import delete_topology


@pytest.fixture(autouse=True)
def events_namespace(settings):
    """Exchange and queues of this test alone; removed from the broker afterwards."""
    namespace = uuid.uuid4().hex[:10]
    settings.COMMON = {**settings.COMMON, "EVENTS": events_options(namespace)}
    yield namespace
    # The broker may be down in a test that stopped it.
    with contextlib.suppress(Exception):
        delete_topology()
