"""GET /health/: the database, Redis, the worker's heartbeat and the outbox, 200 when all are well and 503 otherwise."""

import time

import pytest
from django.urls import reverse

from organiser_portal import health
from organiser_portal.tasks import heartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_heartbeat():
    health._redis().delete(health.HEARTBEAT_KEY)
    yield
    health._redis().delete(health.HEARTBEAT_KEY)


def test_all_well_after_the_worker_beat(client):
    heartbeat.apply()  # what beat asks the worker to do every 30 s
    response = client.get(reverse("health"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "redis": True,
        "worker": True,
        "outbox": True,  # notifications/health.py
    }
    assert response["Cache-Control"] == "no-store"


def test_no_heartbeat_yet_is_a_503_that_says_so(client):
    response = client.get(reverse("health"))
    assert response.status_code == 503
    worker = response.json()["checks"]["worker"]
    assert worker == {"ok": False, "detail": "no heartbeat yet: are the worker and beat running?"}


def test_an_old_heartbeat_means_the_worker_or_beat_stopped(client):
    health.heartbeat_record(now=time.time() - health.HEARTBEAT_STALE_AFTER - 60)
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert "the worker or beat has stopped" in response.json()["checks"]["worker"]["detail"]


def test_redis_down_is_a_503_naming_no_host(client, settings):
    heartbeat.apply()
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    started = time.monotonic()
    response = client.get(reverse("health"))
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["redis"]["ok"] is False and checks["database"]["ok"] is True
    assert "127.0.0.1" not in response.content.decode()


def test_embedded_default_without_redis_is_well(client, settings):
    settings.REDIS_URL = ""
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json()["checks"]["worker"]["detail"] == "in process"


def test_needs_no_login_and_reveals_no_data(client):
    heartbeat.apply()
    response = client.get(reverse("health"))
    assert set(response.json()) == {"status", "checks"}
