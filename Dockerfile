# The API service image. Configured only by MENTORING_* environment variables
# (services/config.py); no key, token or password is baked in.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY services ./services
COPY workflows ./workflows
COPY projections ./projections
# pip writes no bytecode under PYTHONDONTWRITEBYTECODE, so the service's own modules
# are compiled here: the workflow sandbox imports workflows.workflow afresh for every
# workflow it loads, and would otherwise compile it from source each time.
RUN pip install . \
    && cd "$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" \
    && python -m compileall -q domain services workflows projections \
    && useradd --create-home --uid 10001 mentoring

USER mentoring
WORKDIR /home/mentoring
ENV MENTORING_HOST=0.0.0.0 \
    MENTORING_PORT=8000
EXPOSE 8000
CMD ["mentoring", "up"]
