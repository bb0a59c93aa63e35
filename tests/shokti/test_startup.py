"""The server refuses to start in production mode with unsafe settings, and says which."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(args, tmp_path, **env):
    environment = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "SHOKTI_INTERNAL_TOKEN"}}
    environment.update({"SHOKTI_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "shokti.settings", **env})
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("entry", [["manage.py", "check"], ["-c", "import shokti.wsgi"], ["-c", "import shokti.asgi"]])
def test_it_refuses_the_default_secret_key_with_debug_off(tmp_path, entry):
    result = run(entry, tmp_path, DEBUG="0", SHOKTI_INTERNAL_TOKEN="internal-token")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "SHOKTI_INTERNAL_TOKEN is empty" not in result.stderr


@pytest.mark.parametrize("entry", [["manage.py", "check"], ["-c", "import shokti.wsgi"]])
def test_it_refuses_an_empty_internal_token_with_debug_off(tmp_path, entry):
    result = run(entry, tmp_path, DEBUG="0", SECRET_KEY="a-real-secret-" + "x" * 40)
    assert result.returncode != 0
    assert "SHOKTI_INTERNAL_TOKEN" in result.stderr
    assert "SECRET_KEY is the built-in" not in result.stderr


def test_it_starts_with_both_set(tmp_path):
    result = run(
        ["-c", "import shokti.wsgi"],
        tmp_path,
        DEBUG="0",
        SECRET_KEY="a-real-secret-" + "x" * 40,
        SHOKTI_INTERNAL_TOKEN="t",
    )
    assert result.returncode == 0, result.stderr


def test_development_mode_starts_with_the_defaults(tmp_path):
    result = run(["manage.py", "check"], tmp_path, DEBUG="1")
    assert result.returncode == 0, result.stderr
