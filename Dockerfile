# The regmonitor image: `monitor worker`, `monitor beat` and `monitor web` (docker-compose.yml),
# or any command.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY monitor ./monitor
COPY watchers ./watchers
COPY templates ./templates
RUN pip install '.[postgres]' && useradd --create-home --uid 1000 regmonitor \
    && mkdir /data && chown regmonitor /data
USER regmonitor
ENV MONITOR_CONFIG=/app/monitor.yaml
EXPOSE 8080
ENTRYPOINT ["monitor"]
CMD ["--help"]
