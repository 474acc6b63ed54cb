# The detector's image: the API (`detector serve`), the pipeline worker (`detector
# worker`) and the migrations (`detector db upgrade`) all run from it; docker-compose.yml
# picks the command. Settings come from DETECTOR_* variables (docs/operations.md).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY detector ./detector
COPY synth ./synth
COPY migrations ./migrations
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --system --create-home --uid 10001 detector \
    && mkdir /data && chown detector /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER detector
WORKDIR /home/detector
ENV DETECTOR_DATA_DIR=/data \
    DETECTOR_HOST=0.0.0.0 \
    DETECTOR_PORT=8000 \
    DETECTOR_LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=3).status != 200)"]
CMD ["detector", "serve"]
