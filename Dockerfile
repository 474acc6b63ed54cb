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

# The scaled-out deployment's image (docker-compose.yml, profile `scaleout`): the same
# detector with Java 17 and pyspark, for the Spark master and workers (whose Python
# workers run the detector's own code), the stage-1 driver and stage 2.
# Built only as `--target scaleout`; the default target is the last stage below.
FROM python:3.11-slim AS scaleout
RUN apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless procps \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --uid 10001 detector \
    && mkdir /data /segments /checkpoint && chown detector /data /segments /checkpoint
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl "pyspark==4.3.0" "pandas>=2.2,<3" && rm -rf /wheels
USER detector
WORKDIR /home/detector
ENV DETECTOR_DATA_DIR=/data \
    JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 \
    PYTHONUNBUFFERED=1
CMD ["detector", "stage2"]

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
