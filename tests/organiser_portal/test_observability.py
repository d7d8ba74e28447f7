"""Request ids on log lines and answers, JSON logs, Sentry only with a DSN (organiser_portal.observability)."""

import io
import json
import logging
import logging.config
import os
import subprocess
import sys

import pytest

from organiser_portal.observability import REQUEST_ID_HEADER, RequestIdFilter, logging_config

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_log():
    """What the django.request logger writes, formatted as production writes it."""
    stream = io.StringIO()
    config = logging_config(fmt="json", level="INFO")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.config.DictConfigurator(config).configure_formatter(config["formatters"]["json"]))
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def test_every_answer_carries_a_request_id_and_so_do_its_log_lines(client, json_log):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    request_id = response[REQUEST_ID_HEADER]
    assert len(request_id) == 32
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    not_found = [line for line in lines if line["message"].startswith("Not Found")]
    assert not_found and not_found[0]["request_id"] == request_id
    assert {"time", "level", "logger", "message", "request_id"} <= set(not_found[0])
    assert not_found[0]["time"].endswith("Z") and not_found[0]["level"] == "WARNING"


def test_the_proxys_request_id_is_kept_when_sane_and_replaced_when_not(client):
    kept = client.get("/accounts/login/", HTTP_X_REQUEST_ID="req-42.abc_DEF")
    assert kept[REQUEST_ID_HEADER] == "req-42.abc_DEF"
    for bad in ["a" * 65, "has space", "semi;colon", "ünï"]:
        replaced = client.get("/accounts/login/", HTTP_X_REQUEST_ID=bad)
        assert replaced[REQUEST_ID_HEADER] != bad and len(replaced[REQUEST_ID_HEADER]) == 32


def test_log_format_must_be_json_or_text():
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config(fmt="xml", level="INFO")


def _settings_value(name: str, **env: str) -> str:
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'organiser_portal.settings'; django.setup();"
        f"from django.conf import settings; print(settings.{name})"
    )
    base = {k: v for k, v in os.environ.items() if k not in ("SENTRY_DSN", "LOG_FORMAT")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**base, "DEBUG": "1", "SECRET_KEY": "x", **env},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_sentry_starts_only_with_a_dsn():
    assert _settings_value("SENTRY_ENABLED") == "False"
    assert _settings_value("SENTRY_ENABLED", SENTRY_DSN="https://public@o0.ingest.sentry.io/0") == "True"


def test_logs_are_json_outside_debug_and_text_with_it():
    assert _settings_value("LOG_FORMAT") == "text"
    assert _settings_value("LOG_FORMAT", LOG_FORMAT="json") == "json"
