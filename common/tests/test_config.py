import pytest
from django.core.exceptions import ImproperlyConfigured

from common.config.cache import cache_config
from common.config.celery import broker_config, events_options, worker_concurrency, worker_pool
from common.config.database import database_config, normalise_database_url
from common.config.production import insecure_settings, production_settings
from common.config.settings import DEV_SECRET_KEY, build_settings

STRONG_KEY = "x7Kq2p9vLm4Zr8Tn1Wc6Yb3Hf5Jd0Gs-Ua_Ve*Ri&Ox!Pe#Qt$Nw%My^Lz"


@pytest.mark.parametrize(
    "url",
    [
        "postgres://auth_user:secret@db.example:5433/auth_db",
        "postgresql://auth_user:secret@db.example:5433/auth_db",
        "postgresql+asyncpg://auth_user:secret@db.example:5433/auth_db",
        "postgresql+psycopg://auth_user:secret@db.example:5433/auth_db",
    ],
)
def test_every_url_form_gives_the_same_postgres_settings(url, monkeypatch):
    monkeypatch.delenv("TEST_DB_SUFFIX", raising=False)

    config = database_config("auth", url)

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["USER"], config["PASSWORD"], config["HOST"], config["PORT"]) == (
        "auth_db",
        "auth_user",
        "secret",
        "db.example",
        5433,
    )
    assert config["CONN_HEALTH_CHECKS"] is True
    assert config["CONN_MAX_AGE"] > 0
    assert config["TEST"] == {"NAME": "test_auth_db"}


def test_a_test_database_suffix_keeps_concurrent_runs_apart(monkeypatch):
    monkeypatch.setenv("TEST_DB_SUFFIX", "_ci2")

    assert database_config("auth", "postgresql://u:p@h/auth_db")["TEST"] == {"NAME": "test_auth_db_ci2"}


def test_url_options_such_as_sslmode_reach_libpq():
    config = database_config("auth", "postgresql://u:p@h/db?sslmode=verify-full&sslrootcert=/etc/ca.pem")

    assert config["OPTIONS"]["sslmode"] == "verify-full"
    assert config["OPTIONS"]["sslrootcert"] == "/etc/ca.pem"


def test_an_unknown_scheme_is_refused():
    with pytest.raises(ValueError, match="mysql"):
        normalise_database_url("mysql://u:p@h/db")


def test_prefixed_variable_wins_over_plain(monkeypatch):
    monkeypatch.delenv("MOVIE_DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://plain:p@plain-host/plain_db")
    monkeypatch.setenv("AUTH_DATABASE_URL", "postgresql://auth_user:p@auth-host/auth_db")

    assert database_config("auth")["HOST"] == "auth-host"
    assert database_config("movie")["HOST"] == "plain-host"


def test_unset_means_a_sqlite_file_of_the_services_own(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("BOOKING_DATABASE_URL", raising=False)
    monkeypatch.setenv("VAR_DIR", str(tmp_path))

    config = database_config("booking")

    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(tmp_path / "booking" / "db.sqlite3")


def test_unset_broker_is_a_shared_folder_on_disk(monkeypatch, tmp_path):
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.delenv("PAYMENT_CELERY_BROKER_URL", raising=False)
    monkeypatch.setenv("VAR_DIR", str(tmp_path))

    broker = broker_config("payment")

    assert broker["url"] == "filesystem://"
    options = broker["transport_options"]
    # In and out are the same folder: what one process writes, another reads.
    assert options["data_folder_in"] == options["data_folder_out"] == str(tmp_path / "broker" / "data")
    assert options["control_folder"] == str(tmp_path / "broker" / "control")


def test_redis_cache_has_a_per_service_prefix():
    config = cache_config("movie", "redis://127.0.0.1:6379/0")["default"]

    assert config["BACKEND"] == "django_redis.cache.RedisCache"
    assert config["KEY_PREFIX"] == "movie"


def test_unset_cache_is_local_memory(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)

    assert cache_config("movie")["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def _secure(**overrides):
    settings = {
        "SECRET_KEY": STRONG_KEY,
        "DEBUG": False,
        "DATABASES": {"default": {"ENGINE": "django.db.backends.postgresql", "PASSWORD": "s3cret-from-vault"}},
        "CELERY_BROKER_URL": "amqp://app:s3cret@rabbitmq:5672//",
        "STORAGES": {"staticfiles": {"BACKEND": "x"}},
    }
    settings.update(overrides)
    return settings


def test_secure_production_settings_are_accepted():
    assert insecure_settings(_secure()) == []
    assert production_settings(_secure())["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SECRET_KEY": DEV_SECRET_KEY}, "DJANGO_SECRET_KEY is the development default"),
        ({"SECRET_KEY": "django-insecure-" + "a" * 60}, "DJANGO_SECRET_KEY is the development default"),
        ({"SECRET_KEY": "short"}, "at least 50"),
        ({"DEBUG": True}, "DJANGO_DEBUG is on"),
        (
            {"DATABASES": {"default": {"ENGINE": "django.db.backends.postgresql", "PASSWORD": "auth_password123"}}},
            "design-document development password",
        ),
        ({"CELERY_BROKER_URL": "amqp://guest:guest@rabbitmq:5672//"}, "CELERY_BROKER_URL uses a development password"),
    ],
)
def test_production_refuses_each_insecure_value(overrides, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        production_settings(_secure(**overrides))


def test_services_keep_tasks_on_their_own_queue():
    settings = build_settings("booking", apps=[])

    assert settings["CELERY_TASK_DEFAULT_QUEUE"] == "booking.tasks"
    assert settings["STATIC_URL"] == "/static/bookings/"
    assert settings["SESSION_COOKIE_NAME"] == "booking_sessionid"


def _booking_settings_with(monkeypatch, variable: str, environment: dict[str, str]) -> dict:
    """The booking service's settings with only ``environment`` of ``variable`` and ``BOOKING_<variable>``."""
    monkeypatch.delenv(variable, raising=False)
    monkeypatch.delenv(f"BOOKING_{variable}", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return build_settings("booking", apps=[])


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, 2),
        ({"CELERY_CONCURRENCY": "3"}, 3),
        ({"CELERY_CONCURRENCY": "3", "BOOKING_CELERY_CONCURRENCY": "5"}, 5),
    ],
)
def test_worker_pool_size_comes_from_the_environment(monkeypatch, environment, expected):
    settings = _booking_settings_with(monkeypatch, "CELERY_CONCURRENCY", environment)

    assert settings["CELERY_WORKER_CONCURRENCY"] == expected


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, "threads"),
        ({"CELERY_POOL": "prefork"}, "prefork"),
        ({"CELERY_POOL": "prefork", "BOOKING_CELERY_POOL": "solo"}, "solo"),
    ],
)
def test_the_worker_pool_is_threads_unless_the_environment_says_otherwise(monkeypatch, environment, expected):
    settings = _booking_settings_with(monkeypatch, "CELERY_POOL", environment)

    assert settings["CELERY_WORKER_POOL"] == expected


def test_an_unknown_worker_pool_is_refused(monkeypatch):
    monkeypatch.setenv("CELERY_POOL", "gevent")

    with pytest.raises(ImproperlyConfigured, match="CELERY_POOL must be one of threads, prefork, solo, not 'gevent'"):
        worker_pool("booking")


@pytest.mark.parametrize("value", ["two", "0"])
def test_a_worker_pool_size_that_is_not_a_positive_number_is_refused(monkeypatch, value):
    monkeypatch.setenv("CELERY_CONCURRENCY", value)

    with pytest.raises(ImproperlyConfigured, match="CELERY_CONCURRENCY"):
        worker_concurrency("booking")


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, {}),
        ({"EVENT_LANES": "6"}, {"CONSUMER_LANES": 6}),
        ({"EVENT_LANES": "6", "BOOKING_EVENT_LANES": "8"}, {"CONSUMER_LANES": 8}),
        ({"EVENTS_OUTBOX_RETENTION_DAYS": "2"}, {"OUTBOX_RETENTION_DAYS": 2}),
        (
            {"EVENTS_INBOX_RETENTION_DAYS": "9", "BOOKING_EVENTS_INBOX_RETENTION_DAYS": "60"},
            {"INBOX_RETENTION_DAYS": 60},
        ),
    ],
)
def test_the_event_options_come_from_the_environment_or_the_events_default(monkeypatch, environment, expected):
    for variable in ("EVENTS_OUTBOX_RETENTION_DAYS", "EVENTS_INBOX_RETENTION_DAYS"):
        monkeypatch.delenv(variable, raising=False)
        monkeypatch.delenv(f"BOOKING_{variable}", raising=False)
    settings = _booking_settings_with(monkeypatch, "EVENT_LANES", environment)

    assert settings["COMMON"]["EVENTS"] == expected


@pytest.mark.parametrize("value", ["four", "0", "-2"])
def test_a_number_of_event_lanes_that_is_not_positive_is_refused(monkeypatch, value):
    monkeypatch.setenv("EVENT_LANES", value)

    with pytest.raises(ImproperlyConfigured, match="EVENT_LANES must be"):
        events_options("booking")


@pytest.mark.parametrize(
    ("pod_ip", "host"),
    [("10.244.1.7", "10.244.1.7"), ("fd00:10:244::7", "[fd00:10:244::7]")],
)
def test_the_pods_own_address_is_an_allowed_host_so_prometheus_can_scrape_it(monkeypatch, pod_ip, host):
    from common.config.settings import allowed_hosts

    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "booking,localhost")
    monkeypatch.setenv("POD_IP", pod_ip)

    assert allowed_hosts("booking") == ["booking", "localhost", host]


@pytest.mark.django_db
def test_a_scrape_addressed_to_the_pods_ip_is_answered_only_when_the_pod_knows_its_ip(client, settings, monkeypatch):
    from common.config.settings import allowed_hosts

    # given the address list a pod builds from a Kubernetes ConfigMap, without and with POD_IP
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "booking,localhost")
    monkeypatch.delenv("POD_IP", raising=False)
    settings.ALLOWED_HOSTS = allowed_hosts("booking")

    # when Prometheus scrapes the pod by its address, as the cluster's service discovery does
    refused = client.get("/metrics", HTTP_HOST="10.244.1.7:8003")
    monkeypatch.setenv("POD_IP", "10.244.1.7")
    settings.ALLOWED_HOSTS = allowed_hosts("booking")
    answered = client.get("/metrics", HTTP_HOST="10.244.1.7:8003")

    # then only the pod that knows its own address answers
    assert refused.status_code == 400
    assert answered.status_code == 200
    assert b"django_http_requests" in answered.content


@pytest.mark.parametrize(("environment", "expected"), [({}, 8 * 3600), ({"ADMIN_SESSION_SECONDS": "900"}, 900)])
def test_an_admin_session_lasts_a_working_day_not_two_weeks(monkeypatch, environment, expected):
    monkeypatch.delenv("ADMIN_SESSION_SECONDS", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    assert build_settings("movie", apps=[])["SESSION_COOKIE_AGE"] == expected
