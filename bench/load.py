"""A real gunicorn against this database and wrk in front of it: the helpers of the benchmarks under load."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from django.conf import settings

from .common import ROOT


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gunicorn(*, workers: int, threads: int = 1) -> tuple[subprocess.Popen, int]:
    """A real gunicorn on 127.0.0.1 (never port 8000) against this database, DEBUG off.

    threads > 1: gthread with that many threads, as production runs it (gunicorn.conf.py, GUNICORN_THREADS=8
    in docker-compose.yml and the Dockerfile).
    """
    db = settings.DATABASES["default"]
    port = int(os.environ.get("BENCH_PORT") or _free_port())
    env = os.environ | {
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "STATIC_MANIFEST": "0",
        "LOG_LEVEL": "WARNING",
    }
    cmd = [sys.executable, "-m", "gunicorn", "organiser_portal.wsgi", "-w", str(workers)]
    cmd += ["-b", f"127.0.0.1:{port}", "--log-level", "warning"]
    if threads > 1:
        cmd += ["--worker-class", "gthread", "--threads", str(threads)]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True), port


def _wait_for(url: str, server: subprocess.Popen) -> None:
    for _ in range(150):
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            if server.poll() is not None:
                raise RuntimeError("gunicorn exited") from None
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not answer")


def _stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=20)


def _http_check(url: str, session: str, check: Callable[[Any], None]) -> None:
    req = urllib.request.Request(url, headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        body = resp.read()

    class R:
        status_code = resp.status
        content = body

    check(R)


def _wrk_field(out: str, label: str, before: bool = False) -> str | None:
    for line in out.splitlines():
        if label in line:
            if before:
                return line.split(label)[0].split()[-1]
            return line.split(label)[1].split()[0]
    return None


def _wrk_errors(out: str) -> int:
    errors = 0
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Non-2xx or 3xx responses:"):
            errors += int(line.split(":")[1])
        if line.startswith("Socket errors:"):
            errors += sum(int(part.split()[-1]) for part in line.split(":", 1)[1].split(","))
    return errors


def _wrk_latency(out: str) -> dict[str, float]:
    lat: dict[str, float] = {}
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if "Latency Distribution" in line:
            for row in lines[i + 1 : i + 5]:
                pct, value = row.split()
                lat[pct] = _ms(value)
    return lat


def _ms(value: str) -> float:
    for suffix, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0), ("m", 60000.0)):
        if value.endswith(suffix):
            return round(float(value[: -len(suffix)]) * factor, 2)
    return float(value)


def _worker_cpu_seconds(server: subprocess.Popen) -> float:
    """User + system CPU time of the gunicorn master's worker processes so far (Linux /proc); 0 where unknown."""
    try:
        with open(f"/proc/{server.pid}/task/{server.pid}/children") as f:
            workers = f.read().split()
        total = 0.0
        for pid in workers:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total
    except OSError:
        return 0.0
