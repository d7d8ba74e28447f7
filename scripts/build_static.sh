#!/bin/sh
# Collect the static files with the production settings (DEBUG off), so the hashed manifest that every page
# of the image needs is written. Run by the Dockerfile and by tests/test_production_image.py.
#
# Settings refuse to load without SECRET_KEY and ANYMAIL_WEBHOOK_SECRET outside DEBUG, and collectstatic uses
# neither: each gets a random value that lives only in this command's environment, never in the image's.
set -eu
cd "$(dirname "$0")/.."
random_secret() { python -c 'import secrets; print(secrets.token_urlsafe(50))'; }
SECRET_KEY="$(random_secret)" ANYMAIL_WEBHOOK_SECRET="build:$(random_secret)" DEBUG=0 STATIC_MANIFEST=1 \
    python manage.py collectstatic --no-input --verbosity 1
