"""What every client script shares: its arguments and an OTel SDK exporting to the detector.

Each script is run as ``python -m tests.ecosystem.clients.NAME STANDIN DETECTOR TOKEN``
in a process of its own, so that instrumentations, which patch libraries process-wide,
never meet. The exporter is the SDK's default: OTLP/HTTP protobuf behind a
``BatchSpanProcessor``, configured as its documentation says.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass

# LiteLLM fetches its price map from the network at import unless told not to.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@dataclass(frozen=True)
class Args:
    standin: str
    detector: str
    token: str


def args() -> Args:
    standin, detector, token = sys.argv[1:4]
    return Args(standin, detector, token)


def export_to_detector(a: Args, service: str) -> object:
    """A global tracer provider whose spans go to the detector's ``/v1/traces``."""
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    exporter = OTLPSpanExporter(
        endpoint=f"{a.detector}/v1/traces", headers={"Authorization": f"Bearer {a.token}"}
    )
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def done(**facts: object) -> None:
    """Flush every span and print what the script wants the test to know, as JSON."""
    from opentelemetry import trace

    provider = trace.get_tracer_provider()
    flush = getattr(provider, "force_flush", None)
    if flush is not None:
        flush(10_000)
    print(json.dumps(facts))
