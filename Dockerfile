# One image for web (gunicorn), the Celery worker and Celery beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=kaitai.settings.production

RUN apt-get update \
 && apt-get install -y --no-install-recommends gettext curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 kaitai

WORKDIR /app
COPY requirements.lock .
RUN pip install --no-cache-dir -r requirements.lock

COPY --chown=kaitai:kaitai . .
# collectstatic needs settings but no real secrets or database
RUN SECRET_KEY=build FIELD_ENCRYPTION_KEY=build ALLOWED_HOSTS=localhost \
    DATABASE_URL=postgres://build@localhost/build STATIC_ROOT=/app/staticfiles \
    python manage.py collectstatic --noinput \
 && mkdir -p /app/var && chown -R kaitai:kaitai /app/var /app/staticfiles

USER kaitai
EXPOSE 8000
CMD ["gunicorn", "kaitai.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", "--access-logfile", "-"]
