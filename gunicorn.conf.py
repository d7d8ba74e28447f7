"""gunicorn settings read from the working directory by every `gunicorn organiser_portal.wsgi` (Dockerfile,
docker-compose.yml, bench/run.py); command-line flags still win.

gthread workers: a request's database round trips (5–10 per page) overlap another request's Python,
and kept-alive connections spare a TCP handshake per request. Tune with GUNICORN_THREADS.
"""

import os

worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
keepalive = 5
