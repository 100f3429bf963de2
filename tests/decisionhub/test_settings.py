import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k3y-for-the-deploy-check-" + "x7Qp" * 12,
    "ALLOWED_HOSTS": "decisions.example.com",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    environ.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(  # noqa: S603  (our own manage.py, fixed arguments)
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.filterwarnings("ignore")
def test_the_deploy_check_passes_with_production_settings(tmp_path):
    deployed = {**PRODUCTION, "STATIC_ROOT": str(tmp_path)}  # a deploy runs collectstatic first
    collected = manage("collectstatic", "--noinput", "-v", "0", **deployed)
    assert collected.returncode == 0, collected.stderr
    result = manage("check", "--deploy", "--fail-level", "WARNING", **deployed)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(1 silenced)" in result.stdout + result.stderr


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = manage("check", **{**PRODUCTION, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_the_deploy_check_fails_on_a_queue_retry_shorter_than_its_timeout():
    result = manage("check", "--deploy", **PRODUCTION, Q_TIMEOUT="600", Q_RETRY="300")
    assert result.returncode != 0
    assert "sources.E001" in result.stderr
