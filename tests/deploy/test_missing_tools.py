"""A missing system tool is named before anything starts, not found half-way through a start."""

from __future__ import annotations

import argparse
import shutil

import pytest

from bench import run as bench_run
from deploy import gateway
from deploy.cli import up


@pytest.fixture
def no_nginx(monkeypatch):
    monkeypatch.setattr(gateway, "find_nginx", lambda: None)


def up_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    up.add_arguments(parser)
    return parser.parse_args(argv)


def test_up_with_the_gateway_says_nginx_is_missing_before_starting_anything(no_nginx, monkeypatch, capsys):
    def must_not_run(*args, **kwargs):
        raise AssertionError("started work although the gateway cannot run")

    monkeypatch.setattr(up, "migrate", must_not_run)
    monkeypatch.setattr(up, "Supervisor", must_not_run)

    assert up.run(up_args("--gateway")) == 2
    assert "apt-get install nginx-light" in capsys.readouterr().err


def test_the_bench_names_every_missing_tool_and_only_those_its_phases_need(no_nginx, monkeypatch):
    monkeypatch.setattr(bench_run, "py_spy", lambda: None)
    real_which = shutil.which
    monkeypatch.setattr(
        shutil, "which", lambda name, *a, **kw: None if name == "pgbench" else real_which(name, *a, **kw)
    )

    everything = bench_run.missing_tools({"saga", "pgbench"}, profile=True)
    saga_only = bench_run.missing_tools({"saga"}, profile=False)

    assert [entry.split()[0] for entry in everything] == ["nginx", "pgbench", "py-spy"]
    assert [entry.split()[0] for entry in saga_only] == ["nginx"]


def test_the_bench_refuses_to_start_without_nginx(no_nginx, capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench_run.main(["--phases", "saga"])

    assert exit_info.value.code == 2
    assert "nginx is not installed" in capsys.readouterr().err
