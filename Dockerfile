# Bazaar's production image. UNTESTED here: this workplace has no Docker engine to build it.
# Multi-stage: wheels are built in a throw-away stage; the runtime image has no compiler and runs
# as an unprivileged user. The same image runs every process: web (default), worker, beat.
#   docker build -t bazaar .
#   docker run --env-file .env.prod -p 8000:8000 bazaar
#   docker run --env-file .env.prod bazaar celery -A config worker -l info
FROM python:3.11-slim AS build
WORKDIR /build
COPY requirements.txt .
RUN pip wheel --no-cache-dir --wheel-dir /wheels -r requirements.txt

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 ENV=prod GUNICORN_BIND=0.0.0.0:8000
RUN groupadd --system bazaar && useradd --system --gid bazaar --home /app bazaar
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels /wheels/* && rm -rf /wheels
COPY --chown=bazaar:bazaar . .
# collectstatic needs settings that pass the production checks; these values exist only here.
RUN DEBUG=false SECRET_KEY=build-only-$(python -c 'import secrets;print(secrets.token_hex(32))') \
    ALLOWED_HOSTS=build PAYMENT_PROVIDER=simulated python manage.py collectstatic --noinput -v0
USER bazaar
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--config", "gunicorn.conf.py"]
