FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml ./
COPY . .
RUN pip install --no-cache-dir . && DEBUG=1 python manage.py collectstatic --no-input
ENV PYTHONUNBUFFERED=1
# gthread (gunicorn.conf.py): 8 threads per worker overlap the database waits of the webhook storms.
ENV GUNICORN_THREADS=8
EXPOSE 8000
CMD ["gunicorn", "organiser_portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "30"]
