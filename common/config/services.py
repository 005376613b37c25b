"""The five services of the system: names, ports, URL prefixes and databases.

This is the contract's table (``shared/contract.md``) as data. ``manage_all.py``, the settings
builders and the deployment tests all read it, so a port or a prefix is written down once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    prefix: str
    database: str
    db_user: str

    @property
    def package(self) -> str:
        return f"{self.name}_service"

    @property
    def env_prefix(self) -> str:
        return self.name.upper()

    @property
    def database_url_var(self) -> str:
        return f"{self.env_prefix}_DATABASE_URL"

    @property
    def dev_password(self) -> str:
        # The design document's development password; production refuses it.
        return f"{self.name}_password123"

    @property
    def events_queue(self) -> str:
        return f"{self.name}.events"

    @property
    def tasks_queue(self) -> str:
        return f"{self.name}.tasks"


SERVICES: dict[str, Service] = {
    service.name: service
    for service in (
        Service("auth", 8001, "auth", "auth_db", "auth_user"),
        Service("movie", 8002, "movies", "movies_db", "movie_user"),
        Service("booking", 8003, "bookings", "bookings_db", "booking_user"),
        Service("payment", 8004, "payments", "payments_db", "payment_user"),
        Service("notification", 8005, "notifications", "notifications_db", "notification_user"),
    )
}

DEV_PASSWORDS = frozenset(service.dev_password for service in SERVICES.values())


def get_service(name: str) -> Service:
    try:
        return SERVICES[name]
    except KeyError:
        known = ", ".join(SERVICES)
        raise KeyError(f"unknown service {name!r}; known services: {known}") from None
