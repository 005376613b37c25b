#!/bin/sh
# Build-time collectstatic with the production settings (whitenoise's manifest storage needs the
# manifest the production settings will look for). The production settings refuse to import
# without real secrets, so this step feeds them throwaway values that exist only in this process:
# no secret is baked into the image, and no database or broker is touched (none is configured).
# Used by deploy/docker/Dockerfile and by tests/deploy/test_image.py (which runs it on the same
# files the image holds, so a new required production setting breaks the test, not the build).
set -eu
: "${SERVICE:?}"
throwaway="build-only-$(python -c 'import secrets; print(secrets.token_hex(32))')"

env \
  DJANGO_SETTINGS_MODULE="${SERVICE}_service.settings.production" \
  DJANGO_SECRET_KEY="$throwaway" \
  DJANGO_DEBUG=0 \
  DJANGO_ALLOWED_HOSTS=localhost \
  AUTH_JWT_PRIVATE_KEY="$throwaway" \
  PAYMENT_WEBHOOK_SECRETS="$throwaway" \
  python "${SERVICE}_service/manage.py" collectstatic --noinput
