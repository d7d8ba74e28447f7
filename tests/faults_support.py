"""What the fault suite (`make test-faults`) starts of its own, each on a free port: a redis-server, a PostgreSQL
instance, Postmark's HTTP API played by a local server, and Celery worker processes as production runs them.

The fixtures `fake_postmark` and `redis_server` are offered to every test by tests/conftest.py.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from glob import glob
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def wait_for(condition: Callable[[], bool], timeout: float = 30, what: str = "the worker", every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


def free_port() -> int:
    """A port the kernel says is free now (never the shared 5432 or 6379)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- The email service ---------------------------------------------------------------------------------------


class FakePostmark(ThreadingHTTPServer):
    """Postmark's HTTP API on a local port: takes each message, then holds the answer until `release` (set at
    once with `hold=False`). `received`: the request bodies, in the order they came."""

    def __init__(self, *, hold: bool = True):
        self.received: list[dict] = []
        self.took_one = threading.Event()
        self.release = threading.Event()
        if not hold:
            self.release.set()
        self._count = threading.Lock()
        super().__init__(("127.0.0.1", 0), self._handler())

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server._count:
                    server.received.append(body)
                    number = len(server.received)
                server.took_one.set()
                server.release.wait(60)
                answer = json.dumps(
                    {"To": body["To"], "SubmittedAt": "2026-11-30T12:00:00Z", "MessageID": f"pm-{number}",
                     "ErrorCode": 0, "Message": "OK"}
                )  # fmt: skip
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(answer.encode())

            def log_message(self, *args):
                pass

        return Handler

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def start(self) -> FakePostmark:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.shutdown()


@pytest.fixture
def fake_postmark() -> Iterator[FakePostmark]:
    server = FakePostmark().start()
    yield server
    server.stop()


# --- Worker processes ----------------------------------------------------------------------------------------


def django_database_url() -> str:
    """The URL of the database the test process's Django uses (pytest's test database)."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def worker_process(
    api_url: str, log: Path, *, database_url: str | None = None, redis_url: str | None = None, **settings: str
) -> subprocess.Popen:
    """A Celery worker process as production runs it, sending through Postmark at `api_url`, on the test's
    database and broker unless `database_url` / `redis_url` say otherwise (`settings`: more environment
    variables)."""
    env = {
        **os.environ,
        **settings,
        "DEBUG": "0",
        "DATABASE_URL": database_url or django_database_url(),
        "REDIS_URL": redis_url or django_settings.REDIS_URL,
        "EMAIL_SERVICE": "postmark",
        "POSTMARK_SERVER_TOKEN": "test-token",
        "ANYMAIL_POSTMARK_API_URL": api_url,
    }
    command = [sys.executable, "-m", "celery", "-A", "organiser_portal", "worker", "--pool", "solo", "-l", "INFO"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


# --- Redis -----------------------------------------------------------------------------------------------------


class RedisServer:
    """A redis-server of the test's own, without persistence: `stop()` then `start()` is a restart that
    lost everything, `freeze()` a Redis that accepts connections and never answers (a hung server or a
    network partition), and keeps its data for `thaw()`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_timeout=0.2, socket_connect_timeout=0.2).ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while not self.answers():
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)  # a frozen server can't act on SIGTERM
            self.process.terminate()
            self.process.wait(5)
            self.process = None

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


# --- PostgreSQL ------------------------------------------------------------------------------------------------


class PostgresServer:
    """A PostgreSQL instance of the test's own (the machine's binaries, initdb into a fresh directory, trust
    authentication on 127.0.0.1, a free port): never the shared cluster. `restart(down_for)` stops it fast
    (open connections are cut, as when the database server restarts) and starts it again after `down_for` s.

    Run as root, the server runs as the `postgres` user (initdb refuses root), in a directory of its own under
    the system's temporary directory (pytest's tmp_path is root's alone)."""

    def __init__(self, name: str = "portal") -> None:
        found = sorted(glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda path: int(path.split("/")[4]))
        if not found and not shutil.which("pg_ctl"):
            pytest.skip("no PostgreSQL server binaries on this machine")
        self.bin = Path(found[-1] if found else str(shutil.which("pg_ctl"))).parent
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.dir = Path(tempfile.mkdtemp(prefix="portal-pg-"))
        if self.as_user:
            shutil.chown(self.dir, "postgres")
        self.data = self.dir / "data"
        self.port = free_port()
        self.name = name

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.name}"

    @property
    def conninfo(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={self.name} connect_timeout=2"

    def _run(self, *command: str) -> None:
        subprocess.run([*self.as_user, *command], check=True, capture_output=True, timeout=60)

    def create(self) -> None:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()
        self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", self.name)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"), "-w", "-o", options, "start"
        )

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self, down_for: float) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()

    def answers(self) -> bool:
        try:
            with psycopg.connect(self.conninfo):
                return True
        except psycopg.OperationalError:
            return False

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                           capture_output=True, timeout=60)  # fmt: skip
        shutil.rmtree(self.dir, ignore_errors=True)
