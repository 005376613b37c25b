"""Models that exist only to test ``common`` (the effects of the test event handlers)."""

from django.db import models


class Counter(models.Model):
    """How many times a handler's effect happened for one key; "exactly once" means value == 1."""

    key = models.CharField(max_length=100, unique=True)
    value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}={self.value}"
