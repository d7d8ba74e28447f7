"""Stop `make test` at once, with what to do, when PostgreSQL, Redis or the browser is missing."""

import os
import shutil
import socket
import sys
from urllib.parse import urlparse

HINTS = {
    "PostgreSQL": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "Redis": 'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no',
}


def answers(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def main() -> int:
    problems = []
    database_url = os.environ["DATABASE_URL"]
    redis_url = os.environ["REDIS_URL"]
    if not answers(database_url, 5432):
        problems.append(f"PostgreSQL does not answer at {database_url}. Start it: {HINTS['PostgreSQL']}")
    if not answers(redis_url, 6379):
        problems.append(f"Redis does not answer at {redis_url}. Start it: {HINTS['Redis']}")
    if not shutil.which("chromium") and not os.path.exists("/usr/bin/chromium"):
        problems.append("Chromium is missing for the browser tests. Install it: apt-get install -y chromium")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
