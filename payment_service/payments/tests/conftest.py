import pytest

from payment_service.payments import services, tasks
from payment_service.payments.providers import simulated

TASKS = {"charge": tasks.charge_payment, "refund": tasks.refund_payment, "settle": tasks.settle_given_up_payment}


class Enqueued:
    """Tasks the services enqueued after commit, run on demand as a worker would (``.apply()``)."""

    def __init__(self, capture_on_commit):
        self.calls: list[tuple[str, str]] = []
        self.capture_on_commit = capture_on_commit

    def __call__(self, kind):
        return lambda payment_id: self.calls.append((kind, str(payment_id)))

    def run(self) -> None:
        while self.calls:
            kind, payment_id = self.calls.pop(0)
            task = TASKS[kind]
            with self.capture_on_commit(execute=True):
                task.apply(args=[payment_id]).get()


@pytest.fixture
def enqueued(monkeypatch, django_capture_on_commit_callbacks) -> Enqueued:
    recorder = Enqueued(django_capture_on_commit_callbacks)
    monkeypatch.setattr(services, "_enqueue_charge", recorder("charge"))
    monkeypatch.setattr(services, "_enqueue_refund", recorder("refund"))
    monkeypatch.setattr(services, "_enqueue_settle", recorder("settle"))
    return recorder


@pytest.fixture(autouse=True)
def _reliable_provider(settings):
    settings.PAYMENT_PROVIDER_LATENCY_MS = 0
    settings.PAYMENT_PROVIDER_TRANSIENT_ERROR_RATE = 0.0
    settings.PAYMENT_PROVIDER_RANDOM_SEED = None
    settings.PAYMENT_RETRY_BACKOFF_SECONDS = 0
    simulated.reseed(None)
