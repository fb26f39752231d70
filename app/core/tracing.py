"""OpenTelemetry traces: where one slow answer (or ingest) spent its time, across replicas
and inference endpoints.

Configured by the standard ``OTEL_*`` variables and **off when no exporter is set**
(``OTEL_TRACES_EXPORTER`` unset or ``none`` and no ``OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT``):
then the OpenTelemetry API's no-op tracer costs nothing. On, spans go to an OTLP collector
(http/protobuf; ``OTEL_TRACES_EXPORTER=console`` prints them), under
``OTEL_SERVICE_NAME`` (default ``factvault``).

What a trace holds: the maintained instrumentations' spans (FastAPI's HTTP server span,
SQLAlchemy's queries, httpx's calls to inference endpoints, which carry the W3C
``traceparent`` so an endpoint that traces continues the same trace) and factvault's own
stages as ``factvault.<stage>`` spans under them (answering.answerer, ingest.report). Stage
attributes are ids, versions and counts (model sha256, index version, collections, token
counts), **never the question, the answer or document text**: traces leave the machine for
a collector that may keep them longer, and more widely readable, than the documents.

Background work (endpoint health checks, the model-follow loop's SQL) would make a trace
of its own for every check; the sampler drops client spans that have no parent, so a trace
starts at a request or a command.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind

TRACER = trace.get_tracer("factvault")
Attribute = str | int | float | bool | Sequence[str]

_provider: Any = None  # the TracerProvider this process installed, if any


def exporter_configured(env: Mapping[str, str] = os.environ) -> bool:
    """Whether the environment asks for traces (the OpenTelemetry variables' own rule)."""
    exporter = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    return bool(exporter) or bool(endpoint)


def install(provider: Any) -> Any:
    """Makes ``provider`` this process's tracer provider and instruments SQLAlchemy and
    httpx with it (once per process; a later call keeps the first provider)."""
    global _provider
    if _provider is not None:
        return _provider
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    trace.set_tracer_provider(provider)
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    # The instrumentation declares SQLAlchemy < 2.1 and would do nothing on 2.1; it hooks
    # the engine events SQLAlchemy 2.1 keeps, so its version check is skipped (the tracing
    # test sees the SQL spans).
    SQLAlchemyInstrumentor().instrument(tracer_provider=provider, skip_dep_check=True)
    _provider = provider
    return provider


def uninstall() -> None:
    """Undoes ``install`` (tests): the instrumentations removed, the provider shut down.
    OpenTelemetry keeps the process's first provider; shut down, it records nothing."""
    global _provider
    if _provider is None:
        return
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    HTTPXClientInstrumentor().uninstrument()
    SQLAlchemyInstrumentor().uninstrument()
    _provider.shutdown()
    _provider = None


def configure_from_env(env: Mapping[str, str] = os.environ) -> Any:
    """The tracer provider the ``OTEL_*`` variables ask for, installed; None when off."""
    if _provider is not None:
        return _provider
    if not exporter_configured(env):
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    if env.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "console":
        exporter: Any = ConsoleSpanExporter()
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    resource = Resource.create({"service.name": env.get("OTEL_SERVICE_NAME", "factvault")})
    provider = TracerProvider(resource=resource, sampler=request_sampler())
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return install(provider)


def request_sampler() -> Any:
    """Keeps every span of a trace that a request or a command started; drops client
    spans (SQL, HTTP) that start a trace of their own (background checks)."""
    from opentelemetry.sdk.trace.sampling import (
        ALWAYS_ON,
        Decision,
        ParentBased,
        Sampler,
        SamplingResult,
    )

    class NoBackgroundRoots(Sampler):
        def should_sample(self, parent_context, trace_id, name, kind=None, attributes=None,
                          links=None, trace_state=None) -> SamplingResult:  # fmt: skip
            if kind == SpanKind.CLIENT:
                return SamplingResult(Decision.DROP)
            return ALWAYS_ON.should_sample(
                parent_context, trace_id, name, kind, attributes, links, trace_state
            )

        def get_description(self) -> str:
            return "NoBackgroundRoots"

    return ParentBased(root=NoBackgroundRoots())


def instrument_app(app: Any) -> None:
    """FastAPI's server spans for ``app`` (health and metrics probes left out)."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=_provider, excluded_urls="healthz,readyz,metrics"
    )


@contextmanager
def stage(name: str, **attributes: Attribute | None) -> Iterator[Span]:
    """A span for one of factvault's stages, current while the block runs."""
    with TRACER.start_as_current_span(f"factvault.{name}", attributes=_clean(attributes)) as span:
        yield span


def span_between(name: str, start_ns: int, end_ns: int, **attributes: Attribute | None) -> None:
    """A stage span recorded after the fact (its times measured by the stage itself, such
    as the prefill that ends at the first token), under the current span."""
    span = TRACER.start_span(f"factvault.{name}", start_time=start_ns,
                             attributes=_clean(attributes))  # fmt: skip
    span.end(end_time=end_ns)


def now_ns() -> int:
    return time.time_ns()


def set_attributes(span: Span, **attributes: Attribute | None) -> None:
    span.set_attributes(_clean(attributes))


def _clean(attributes: Mapping[str, Attribute | None]) -> dict[str, Attribute]:
    return {f"factvault.{k}": v for k, v in attributes.items() if v is not None}
