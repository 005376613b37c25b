"""Settings of the worker processes the event tests start: the test project with their names.

``EVENTS_TEST_NAMESPACE`` (set by the test) makes exchange and queues the test's own.
"""

import os

from common.tests.events.names import events_options
from common.tests.settings import *  # noqa: F403

COMMON = {**COMMON, "EVENTS": events_options(os.environ["EVENTS_TEST_NAMESPACE"])}  # noqa: F405
