"""The production image serves pages (issue 16: it answered 500 on every one). No Docker engine here, so the
image is rebuilt as the Dockerfile builds it (tests/production.py: the context .dockerignore leaves, the same
scripts/build_static.sh) and its processes run with the environment docker-compose.yml gives them: gunicorn
renders the login page and a member's page, beat and the worker pass their compose health checks."""

import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from http.client import HTTPConnection
from http.cookies import Morsel, SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection

from organiser_portal.celery import app as celery_app
from organiser_portal.models import Membership

from . import production
from .factories import EventFactory, MembershipFactory, UserFactory

PUBLIC_HOST = "portal.example.com"  # ALLOWED_HOSTS in .env.example
PASSWORD = "a-password-for-the-image-test"
HASHED_CSS = re.compile(r'<link rel="stylesheet" href="(/static/[^"]+\.[0-9a-f]{12}\.css)"')


def _test_database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _runtime_env(**overrides: str) -> dict[str, str]:
    return production.image_runtime_env(
        database_url=_test_database_url(), redis_url=settings.CELERY_BROKER_URL, **overrides
    )


def _healthcheck(service: str, image: Path, *extra: str, **env: str) -> subprocess.CompletedProcess:
    """The service's compose health check, run as docker runs it (CMD directly, CMD-SHELL through sh)."""
    kind, *command = production.compose()["services"][service]["healthcheck"]["test"]
    argv = [*command, *extra] if kind == "CMD" else ["sh", "-c", " ".join([*command, *extra]).replace("$$", "$")]
    return subprocess.run(argv, cwd=image, env=_runtime_env(**env), capture_output=True, text=True, timeout=60)


def _wait_healthy(service: str, image: Path, process: subprocess.Popen, log: Path, *extra: str, **env: str) -> None:
    deadline = time.monotonic() + 90
    while (checked := _healthcheck(service, image, *extra, **env)).returncode != 0:
        assert process.poll() is None, f"{service} exited: {log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"{service} never became healthy: {checked.stdout}{checked.stderr}"
        time.sleep(0.5)


def _start(command: list[str], image: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=image, env=_runtime_env(), stdout=log.open("w"), stderr=subprocess.STDOUT)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class ThroughTheProxy:
    """A browser reaching gunicorn through the TLS proxy: the public host name, X-Forwarded-Proto: https, and
    cookies kept by hand (a cookie jar won't send Secure cookies over the proxy's plain-HTTP hop)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, Morsel] = {}

    def request(self, method: str, path: str, form: dict | None = None, https: bool = True):
        headers = {"Host": PUBLIC_HOST}
        if https:
            headers |= {"X-Forwarded-Proto": "https", "Origin": f"https://{PUBLIC_HOST}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={m.value}" for name, m in self.cookies.items())
        body = urlencode(form) if form else None
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        http = HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            http.request(method, path, body=body, headers=headers)
            response = http.getresponse()
            content = response.read().decode(errors="replace")
        finally:
            http.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            self.cookies.update(SimpleCookie(header))
        return response, content


@pytest.fixture
def gunicorn(production_image, transactional_db, tmp_path) -> Iterator[int]:
    """The web service: the image's command (Dockerfile CMD), on a free port and with one worker process."""
    command = production.dockerfile_cmd()
    port = production.free_port()
    command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    command[command.index("--workers") + 1] = "1"
    log = tmp_path / "gunicorn.log"
    server = _start(command, production_image, log)
    try:
        _wait_healthy("web", production_image, server, log, "--port", str(port))
        yield port
    finally:
        _stop(server)
    assert "Traceback" not in log.read_text()


def test_the_image_serves_the_login_page_with_its_hashed_css(gunicorn):
    browser = ThroughTheProxy(gunicorn)
    response, page = browser.request("GET", "/accounts/login/")
    assert response.status == 200, page[-3000:]
    assert "Strict-Transport-Security" in response.headers
    stylesheets = HASHED_CSS.findall(page)
    assert len(stylesheets) == 2, page[:2000]  # Bootstrap and portal.css, both under their hashed names
    for url in stylesheets:
        css, body = browser.request("GET", url)
        assert css.status == 200 and css.headers["Content-Type"].startswith("text/css") and body

    plain, _ = browser.request("GET", "/accounts/login/", https=False)
    assert plain.status == 301 and plain.headers["Location"] == f"https://{PUBLIC_HOST}/accounts/login/"


def test_a_member_logs_in_to_the_image_and_sees_their_events(gunicorn):
    event = EventFactory(name="Harbour Lights")
    user = UserFactory(username="agent@example.com", password=PASSWORD)
    MembershipFactory(user=user, organisation=event.organisation, role=Membership.Role.SUPPORT)
    browser = ThroughTheProxy(gunicorn)
    browser.request("GET", "/accounts/login/")
    token = browser.cookies["csrftoken"].value
    form = {"username": "agent@example.com", "password": PASSWORD, "csrfmiddlewaretoken": token}

    response, page = browser.request("POST", "/accounts/login/", form)
    assert response.status == 302, page[-3000:]
    session = browser.cookies["sessionid"]
    assert session["secure"] and session["httponly"]
    response, _ = browser.request("GET", response.headers["Location"])
    assert response.status == 302  # the dashboard sends the member on to their organisation's events
    response, page = browser.request("GET", response.headers["Location"])
    assert response.status == 200 and "Harbour Lights" in page


def test_the_web_health_check_fails_when_nothing_answers(production_image):
    checked = _healthcheck("web", production_image, "--port", str(production.free_port()))
    assert checked.returncode == 1 and "failed" in checked.stdout


def test_beat_writes_its_schedule_where_its_user_may_and_passes_its_health_check(production_image):
    command = production.compose()["services"]["beat"]["command"]
    schedule = production_image / command[command.index("--schedule") + 1]
    # The Dockerfile makes beat's folder and gives it to the portal's user; this rebuild runs no mkdir of its own.
    build_step = next(a for i, a in production.dockerfile_instructions() if i == "RUN" and production.BUILD_STATIC in a)
    folder = schedule.parent.relative_to(production_image).as_posix()
    assert re.search(rf"mkdir -p [^&]*\b{folder}\b", build_step) and re.search(rf"chown [^&]*\b{folder}\b", build_step)
    schedule.parent.mkdir(parents=True, exist_ok=True)
    unhealthy = _healthcheck("beat", production_image)
    assert unhealthy.returncode == 1 and "no schedule file" in unhealthy.stdout

    log = schedule.parent / "beat.log"
    beat = _start(command, production_image, log)
    try:
        _wait_healthy("beat", production_image, beat, log)
    finally:
        _stop(beat)
    stale = time.time() - 3600
    for path in schedule.parent.glob(schedule.name + "*"):
        os.utime(path, (stale, stale))
    stuck = _healthcheck("beat", production_image)
    assert stuck.returncode == 1 and "was last written" in stuck.stdout


def test_the_worker_answers_its_health_check(production_image, tmp_path, transactional_db):
    celery_app.control.purge()  # tasks other tests published without a worker: not this one's to run
    log = tmp_path / "worker.log"
    worker = _start(production.compose()["services"]["worker"]["command"], production_image, log)
    try:
        # Docker sets HOSTNAME to the container's host name, which names the worker's node.
        _wait_healthy("worker", production_image, worker, log, HOSTNAME=socket.gethostname())
    finally:
        _stop(worker)


def test_every_compose_service_restarts_and_reports_its_health():
    services = production.compose()["services"]
    assert {"db", "redis", "migrate", "web", "worker", "beat"} <= set(services)
    for name, service in services.items():
        if name == "migrate":  # a one-off job: retried until the migrations are in, then done
            assert service["restart"] == "on-failure" and "healthcheck" not in service
            continue
        assert service.get("restart") == "unless-stopped", name
        assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name


def test_the_portal_services_read_the_env_file_and_require_the_secrets():
    services = production.compose()["services"]
    for name in ("migrate", "web", "worker", "beat"):
        assert services[name]["env_file"] == [".env"], name
        for required in ("SECRET_KEY", "ANYMAIL_WEBHOOK_SECRET"):
            assert services[name]["environment"][required].startswith("${" + required + ":?"), (name, required)
    # Beat is its own single service, never a worker's embedded -B (which would run once per worker).
    assert services["beat"]["command"][3] == "beat" and "-B" not in services["worker"]["command"]


def test_every_setting_read_from_the_environment_is_documented_in_env_example():
    settings_py = (production.ROOT / "organiser_portal" / "settings.py").read_text()
    gunicorn_conf = (production.ROOT / "gunicorn.conf.py").read_text()
    read = set(re.findall(r'\benv\.\w+\(\s*"([A-Z][A-Z0-9_]*)"', settings_py))
    read |= set(re.findall(r'os\.environ\.get\(\s*"([A-Z][A-Z0-9_]*)"', gunicorn_conf))
    assert {"DEBUG", "SECRET_KEY", "ANYMAIL_WEBHOOK_SECRET", "GUNICORN_THREADS"} <= read
    example = (production.ROOT / ".env.example").read_text()
    # Set in the example, or shown commented out (an optional one, e.g. `# EMAIL_HOST=smtp.example.com`).
    documented = set(production.dotenv(production.ROOT / ".env.example"))
    documented |= set(re.findall(r"^#\s*([A-Z][A-Z0-9_]*)=", example, flags=re.M))
    assert read - documented == set()


def test_the_image_runs_as_its_own_user_and_keeps_no_secret_in_its_environment():
    instructions = production.dockerfile_instructions()
    users = [arguments for instruction, arguments in instructions if instruction == "USER"]
    assert users and users[-1] not in ("root", "0")
    for instruction, arguments in instructions:
        if instruction in ("ENV", "ARG"):
            assert "SECRET" not in arguments, arguments
        assert "DEBUG=1" not in arguments, arguments


def test_dockerignore_keeps_history_local_files_and_caches_out_and_the_portal_in():
    for path in (
        ".git",
        ".git/HEAD",
        ".venv/bin/python",
        ".env",
        "var/portal.sqlite3",
        "var/mail/1.eml",
        "orders/__pycache__/models.cpython-311.pyc",
        "tests/conftest.py",
    ):
        assert production.dockerignored(path), path
    apps = [app for app in settings.INSTALLED_APPS if (production.ROOT / app).is_dir()]
    assert "organiser_portal" in apps and "demo" in apps
    needed = [
        "manage.py",
        "gunicorn.conf.py",
        "pyproject.toml",
        "scripts/build_static.sh",
        "scripts/healthcheck.py",
        "static/css/portal.css",
        "templates/base.html",
        *(f"{app}/__init__.py" for app in apps),
    ]
    for path in needed:
        assert (production.ROOT / path).exists() and not production.dockerignored(path), path
