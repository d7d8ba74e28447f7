FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji \
    && rm -rf /var/lib/apt/lists/*
# The portal runs as this user, which may write only under var/ (email files, beat's schedule).
RUN useradd --system --uid 10001 --user-group --create-home portal
WORKDIR /app
# The dependencies first: a code change doesn't reinstall them.
COPY pyproject.toml ./
RUN pip install --no-cache-dir .
COPY . .
# With the production settings (DEBUG off), so the hashed manifest every page needs is written; the secrets
# settings.py demands are made up inside the script for that one command and never reach the image's env.
RUN sh scripts/build_static.sh \
    && mkdir -p var/mail var/media var/beat \
    && chown portal:portal var var/mail var/media var/beat
ENV PYTHONUNBUFFERED=1
# gthread (gunicorn.conf.py): 8 threads per worker overlap the database waits of the webhook storms.
ENV GUNICORN_THREADS=8
USER portal
EXPOSE 8000
CMD ["gunicorn", "organiser_portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "30"]
