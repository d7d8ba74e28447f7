"""The containers' health checks in docker-compose.yml (the worker's is `celery inspect ping`).

    python scripts/healthcheck.py web [--port 8000]    the login page answers 200, asked as the TLS proxy asks
    python scripts/healthcheck.py beat SCHEDULE_FILE   beat still writes its schedule (it does every few minutes)

Exits 0 when healthy, 1 with one line saying why (shown by `docker inspect`). Uses only the standard library and
the environment the service already has: no Django start-up on every probe.
"""

import argparse
import http.client
import os
import sys
import time
from pathlib import Path

LOGIN_PATH = "/accounts/login/"
# Beat writes its schedule file after sending a task once more than 3 minutes have passed since the last write,
# and the outbox sweeper is due every minute: older than this, beat is stuck.
BEAT_MAX_AGE_SECONDS = 600


def web_problem(port: int) -> str | None:
    # Requests come through the TLS proxy, which keeps the public host name and says it was HTTPS; asking any other
    # way is answered 400 (ALLOWED_HOSTS) or a redirect to https (SECURE_SSL_REDIRECT).
    first_host = os.environ.get("ALLOWED_HOSTS", "localhost").split(",")[0].strip().lstrip(".")
    host = "localhost" if first_host in ("", "*") else first_host
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", LOGIN_PATH, headers={"Host": host, "X-Forwarded-Proto": "https"})
        status = connection.getresponse().status
    except OSError as error:
        return f"GET {LOGIN_PATH} on port {port} failed: {error}"
    finally:
        connection.close()
    return None if status == 200 else f"GET {LOGIN_PATH} (Host: {host}) answered {status}"


def beat_problem(schedule: Path) -> str | None:
    # The dbm module behind beat's shelve may add suffixes (.db, .dat/.dir/.bak): the newest file counts.
    files = [path for path in schedule.parent.glob(schedule.name + "*") if path.is_file()]
    if not files:
        return f"beat has written no schedule file at {schedule}"
    age = time.time() - max(path.stat().st_mtime for path in files)
    return None if age <= BEAT_MAX_AGE_SECONDS else f"beat's schedule {schedule} was last written {age:.0f} s ago"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    services = parser.add_subparsers(dest="service", required=True)
    services.add_parser("web").add_argument("--port", type=int, default=8000)
    services.add_parser("beat").add_argument("schedule", type=Path)
    args = parser.parse_args(argv)
    problem = web_problem(args.port) if args.service == "web" else beat_problem(args.schedule)
    if problem:
        print(problem)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
