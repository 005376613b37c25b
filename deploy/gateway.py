"""Render and start the NGINX gateway.

One template (deploy/nginx/nginx.conf.template), two targets:

* ``compose``: inside the ``nginx`` container; upstreams are the compose service names, logs go to
  the container's stdout/stderr, Docker's embedded DNS resolves the names per request (so the gateway
  starts even while a service is down, and follows a restarted container to its new address).
* ``local``: a normal unprivileged process on this machine in front of 127.0.0.1:8001-8005; pid,
  logs and temp files live under ``run_dir``. Used by ``manage_all.py up --gateway``::

      conf = render_config("local", run_dir)
      subprocess.Popen(nginx_command(conf, run_dir))

``python -m deploy.gateway render compose`` refreshes the committed compose copy;
``python -m deploy.gateway render local --run-dir var/gateway`` prints the command to start one.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "nginx" / "nginx.conf.template"
COMPOSE_CONF_DIR = Path(__file__).resolve().parent / "nginx" / "compose"

# service name -> port; the URL prefix and compose host name follow the contract.
SERVICE_PORTS = {"auth": 8001, "movie": 8002, "booking": 8003, "payment": 8004, "notification": 8005}
TARGETS = ("compose", "local")

# Defaults for the tunables; each can be overridden by an argument or a GATEWAY_* variable.
DEFAULTS = {
    "login_rate": "5r/s",  # POST /api/auth/token/ and each admin login/, per client address
    "login_burst": "10",
    "booking_rate": "10r/s",  # POST /api/bookings/ per client address
    "booking_burst": "20",
    "client_max_body_size": "1m",
    "connect_timeout": "2s",
}

_PLACEHOLDER = re.compile(r"{{(\w+)}}")
# The gateway's own error answers in the template: `return 413 '{"detail": "…"}';`.
_ERROR_RETURN = re.compile(r"return (?P<status>[45]\d\d) '(?P<body>\{\"detail\": [^']*\})';")


def error_bodies() -> dict[int, str]:
    """The JSON body of each error the gateway answers itself, by status (from the template).

    The Kubernetes error backend (deploy/k8s/gateway_errors.py) answers with the same bodies.
    """
    return {int(match["status"]): match["body"] for match in _ERROR_RETURN.finditer(TEMPLATE.read_text())}


def default_upstreams(target: str) -> dict[str, str]:
    host = {"compose": None, "local": "127.0.0.1"}[target]
    return {name: f"{host or name}:{port}" for name, port in SERVICE_PORTS.items()}


def _process_settings(target: str, run_dir: Path) -> str:
    if target == "compose":
        return "worker_processes auto;\npid /var/run/nginx.pid;\nerror_log /dev/stderr warn;"
    # Started as root (CI, a container without users), NGINX would run its workers as "nobody",
    # who may not even enter the run directory to write the seat-map cache: a local gateway runs as
    # whoever started it, like every other process of `manage_all.py up`.
    user = "user root root;\n" if os.geteuid() == 0 else ""
    return f"{user}worker_processes 1;\npid {run_dir / 'nginx.pid'};\nerror_log {run_dir / 'logs' / 'error.log'} warn;"


def _http_paths(target: str, run_dir: Path) -> str:
    if target == "compose":
        return ""
    tmp = run_dir / "tmp"
    lines = [
        f"client_body_temp_path {tmp / 'client_body'};",
        f"proxy_temp_path {tmp / 'proxy'};",
        f"fastcgi_temp_path {tmp / 'fastcgi'};",
        f"uwsgi_temp_path {tmp / 'uwsgi'};",
        f"scgi_temp_path {tmp / 'scgi'};",
    ]
    return "\n".join("    " + line for line in lines)


def render_config(
    target: str,
    run_dir: Path,
    listen: str = "127.0.0.1:8000",
    *,
    upstreams: dict[str, str] | None = None,
    **tunables: str | int,
) -> Path:
    """Write ``<run_dir>/nginx.conf`` for ``target`` and return its path.

    ``listen`` applies to the local target (compose always listens on 80). ``upstreams`` overrides
    ``host:port`` per service (tests point them at stub servers). ``tunables`` override DEFAULTS.
    """
    if target not in TARGETS:
        raise ValueError(f"unknown gateway target {target!r}; expected one of {TARGETS}")
    unknown = set(tunables) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown gateway settings: {sorted(unknown)}")
    run_dir = Path(run_dir).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    if target == "local":
        for sub in ("logs", "tmp", "cache"):
            (run_dir / sub).mkdir(exist_ok=True)

    ups = default_upstreams(target)
    ups.update(upstreams or {})
    values = {
        key: str(tunables.get(key, os.environ.get(f"GATEWAY_{key.upper()}", default)))
        for key, default in DEFAULTS.items()
    }
    if target == "local":
        # Named groups with idle connections kept open: without them NGINX opens a new connection
        # to gunicorn for every request. (Compose resolves the names per request instead; see below.)
        values.update({f"upstream_{name}": f"gateway_{name}" for name in ups})
        values["upstream_blocks"] = "\n".join(
            f"    upstream gateway_{name} {{\n        server {addr};\n        keepalive 16;\n    }}\n"
            for name, addr in ups.items()
        )
    else:
        values.update({f"upstream_{name}": addr for name, addr in ups.items()})
        values["upstream_blocks"] = ""
    values.update(
        process_settings=_process_settings(target, run_dir),
        http_paths=_http_paths(target, run_dir),
        access_log="/dev/stdout" if target == "compose" else str(run_dir / "logs" / "access.log"),
        # In the container: a directory of its own in /tmp (the image has no writable /var/cache subdir).
        cache_path="/tmp/nginx-seat-maps" if target == "compose" else str(run_dir / "cache"),  # noqa: S108
        listen="80" if target == "compose" else listen,
        # Upstream names are variables, so they are resolved per request: Docker's DNS in compose.
        resolver="    resolver 127.0.0.11 valid=10s ipv6=off;" if target == "compose" else "",
    )

    def substitute(match: re.Match[str]) -> str:
        return values[match.group(1)]  # KeyError = a placeholder nobody fills: fail loudly

    conf = _PLACEHOLDER.sub(substitute, TEMPLATE.read_text())
    conf_path = run_dir / "nginx.conf"
    conf_path.write_text(conf)
    return conf_path


def find_nginx() -> str | None:
    """The nginx binary, also where Debian puts it outside a non-root PATH; None when absent."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def nginx_missing() -> str | None:
    """What to tell someone about to start a gateway on a machine without nginx; None if it is there."""
    if find_nginx():
        return None
    return "nginx is not installed; the gateway needs it (Debian: apt-get install nginx-light)"


def nginx_binary() -> str:
    return find_nginx() or "nginx"


def nginx_command(conf_path: Path, run_dir: Path) -> list[str]:
    """The foreground command for a rendered config (``-e`` keeps nginx off /var/log/nginx)."""
    run_dir = Path(run_dir).resolve()
    return [
        nginx_binary(),
        "-p", str(run_dir),
        "-c", str(Path(conf_path).resolve()),
        "-e", str(run_dir / "logs" / "error.log"),
        "-g", "daemon off;",
    ]  # fmt: skip


def nginx_test_command(conf_path: Path, run_dir: Path) -> list[str]:
    run_dir = Path(run_dir).resolve()
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    return [nginx_binary(), "-t", "-q", "-p", str(run_dir), "-c", str(Path(conf_path).resolve()),
            "-e", str(run_dir / "logs" / "error.log")]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.gateway")
    sub = parser.add_subparsers(dest="command", required=True)
    render = sub.add_parser("render", help="render the gateway config for a target")
    render.add_argument("target", choices=TARGETS)
    render.add_argument("--run-dir", type=Path, help="output directory (compose: deploy/nginx/compose)")
    render.add_argument("--listen", default="127.0.0.1:8000")
    args = parser.parse_args(argv)

    run_dir = args.run_dir or (COMPOSE_CONF_DIR if args.target == "compose" else Path("var/gateway"))
    conf = render_config(args.target, run_dir, args.listen)
    print(conf)
    if args.target == "local":
        print(" ".join(nginx_command(conf, run_dir)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
