"""Gunicorn settings shared by the five services.

Used as ``gunicorn <pkg>.wsgi:application -c deploy/gunicorn.conf.py --bind 0.0.0.0:<port>``.
Every value can be tuned from the environment so compose and Kubernetes only set variables.
"""

import os
import tempfile


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


# --bind on the command line wins; this is the fallback for a bare `gunicorn -c`.
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")

# Processes x threads: threads keep memory low while a request waits on PostgreSQL or another
# service; the process count is what scales CPU. Kubernetes scales pods, so the default stays small.
workers = _int("GUNICORN_WORKERS", 2)
threads = _int("GUNICORN_THREADS", 4)
worker_class = "gthread" if threads > 1 else "sync"

# A request that takes longer than this is a bug or a dead dependency: kill the worker, do not hang.
timeout = _int("GUNICORN_TIMEOUT", 30)
# SIGTERM (compose stop, pod deletion) lets in-flight requests finish for this long.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 20)
# Longer than the gateway's idle keepalive, so NGINX never reuses a connection gunicorn just closed.
keepalive = _int("GUNICORN_KEEPALIVE", 75)

# Recycle workers now and then (bounded memory growth); jitter keeps them from restarting together.
# Not too often: a recycled worker re-imports Django and reconnects, which at 1000 requests cost a
# restart every few seconds per worker under load (docs/performance.md).
max_requests = _int("GUNICORN_MAX_REQUESTS", 20000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 2000)

# The heartbeat file lives in memory: container overlay filesystems can stall on fsync.
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR", "/dev/shm" if os.path.isdir("/dev/shm") else None)

# Each worker process keeps its Prometheus counters in a file of this directory and /metrics sums
# them (common/observability/metrics.py); without it a scrape answers one worker's counters at
# random. Set before any worker imports prometheus_client, which picks its mode on import. A
# directory given from outside is its owner's (`manage_all.py up` shares one with the service's
# Celery worker); otherwise each server starts with a fresh, empty one.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="prometheus-")


def child_exit(server, worker):
    # A dead worker's counters stay in the sums; its live gauges must go.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


# Trust X-Forwarded-* only from the gateway. Inside compose/k8s the gateway's address is not fixed,
# so the default trusts any peer: the services are never published without the gateway in front.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "*")
proxy_allow_ips = forwarded_allow_ips

# The gateway admits a request line up to its 8k header buffers and answers longer ones itself
# (JSON 414); gunicorn's default of 4094 turned the rest into its own HTML 414. 8190 is its most.
limit_request_line = 8190

# Gunicorn opens a control socket for `gunicornc`, by default at one path per user
# ($HOME/.gunicorn/gunicorn.ctl): the five services on one host would each take it over from the
# last (gunicornc would then reload whichever started last), and a read-only container root cannot
# create it. `manage_all.py up` gives each server its own path; elsewhere there is none.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket

# Logs go to stdout/stderr for the container runtime to collect.
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = os.environ.get("GUNICORN_ERRORLOG", "-")
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# One JSON object per line; X-Request-ID ties it to the gateway's log and the service's own logs.
access_log_format = (
    '{"time": "%(t)s", "request_id": "%({x-request-id}i)s", "remote_addr": "%(h)s", '
    '"method": "%(m)s", "path": "%(U)s", "query": "%(q)s", "status": %(s)s, '
    '"bytes": %(B)s, "duration_ms": %(M)s, "user_agent": "%(a)s"}'
)
