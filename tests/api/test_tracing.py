"""OpenTelemetry traces, seen through the SDK's in-memory exporter: one trace per question,
factvault's stage spans in order under the HTTP server span, no question, answer or
document text in any attribute; an ingest traced per file and stage; and a trace that
crosses to a llama.cpp inference endpoint (its requests carry the trace's ``traceparent``,
recorded by a proxy in front of a real `python -m llama_cpp.server`).

Real service (MiniLM, SmolLM2), answer cache off so every question generates."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from app.core import tracing
from app.main import create_app
from app.models.bundled import BUNDLED, materialize
from tests.fixtures import LOCAL_URL, make_service
from tests.inference import InferenceServer

pytestmark = pytest.mark.slow

QUESTION = "How many days of annual leave does a full-time employee get per year?"
STAGES = ["retrieve", "evidence", "queue", "generate", "attribute"]


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=tracing.request_sampler())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    installed = tracing.install(provider)
    if installed is not provider:
        pytest.fail("another tracer provider was installed in this process before this test")
    yield exporter
    tracing.uninstall()


@pytest.fixture(scope="module")
def api(spans, tmp_path_factory, minilm, models_dir) -> Iterator[tuple[TestClient, Any]]:
    root = tmp_path_factory.mktemp("tracing")
    state = make_service(
        root, minilm, models_dir, "smollm2-135m", answer_cache=False,
        answer_second_chance=False, inference_endpoint_hosts=["127.0.0.1"],
    )  # fmt: skip
    with TestClient(create_app(state.settings, state), base_url=LOCAL_URL) as client:
        yield client, state
    state.close()


def by_name(spans: list[ReadableSpan]) -> dict[str, list[ReadableSpan]]:
    out: dict[str, list[ReadableSpan]] = {}
    for s in spans:
        out.setdefault(s.name, []).append(s)
    return out


def ancestors(span: ReadableSpan, index: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    chain = []
    while span.parent is not None and span.parent.span_id in index:
        span = index[span.parent.span_id]
        chain.append(span)
    return chain


def texts_in_attributes(spans: list[ReadableSpan]) -> str:
    values = []
    for s in spans:
        for v in (s.attributes or {}).values():
            values.append(" ".join(map(str, v)) if isinstance(v, tuple | list) else str(v))
        for e in s.events:
            values.extend(str(v) for v in (e.attributes or {}).values())
    return "\n".join(values)


def test_one_trace_per_question_with_its_stages_in_order(api, spans) -> None:
    client, _ = api
    spans.clear()
    r = client.post("/v1/query", json={"question": QUESTION})
    assert r.status_code == 200, r.text
    body = r.json()
    got = list(spans.get_finished_spans())
    assert len({s.context.trace_id for s in got}) == 1, {s.name for s in got}
    index = {s.context.span_id: s for s in got}
    names = by_name(got)
    server = [s for s in got if s.kind == SpanKind.SERVER]
    assert len(server) == 1 and "/v1/query" in server[0].name
    answer = names["factvault.answer"][0]
    assert server[0] in ancestors(answer, index)
    # The stages, children of the answer span, in the order they ran.
    children = sorted(
        (s for s in got if s.parent and s.parent.span_id == answer.context.span_id),
        key=lambda s: s.start_time,
    )
    order = [s.name.removeprefix("factvault.") for s in children if s.name != "factvault.cache"]
    assert [n for n in order if n in STAGES] == STAGES, order
    generate = names["factvault.generate"][0]
    prefill = names["factvault.prefill"][0]
    assert prefill.parent.span_id == generate.context.span_id
    assert generate.start_time <= prefill.start_time <= prefill.end_time <= generate.end_time
    sql = [s for s in got if (s.attributes or {}).get("db.system") or
           (s.attributes or {}).get("db.system.name")]  # fmt: skip
    assert sql, "SQLAlchemy's spans are part of the trace"
    assert all(answer in ancestors(s, index) or server[0] in ancestors(s, index) for s in sql)
    attrs = answer.attributes
    assert attrs["factvault.model_sha256"] == body["model"]["sha256"]
    assert attrs["factvault.index_version"] == body["index_version"]
    assert attrs["factvault.prompt_tokens"] > 0
    assert prefill.attributes["factvault.prompt_tokens"] > 0
    # No question, answer or document text anywhere in the trace's attributes.
    seen = texts_in_attributes(got)
    assert QUESTION not in seen and "annual leave" not in seen.lower()
    if body["answer"] and len(body["answer"]) > 12:
        assert body["answer"][:40] not in seen
    for c in body["citations"]:
        assert c["text"][:40] not in seen


def test_an_ingest_is_traced_per_file_and_stage(api, spans, tmp_path) -> None:
    _, state = api
    (tmp_path / "memo.md").write_text("# Parking\n\nThe staff car park has 47 spaces.\n")
    spans.clear()
    state.ingest_files([("memo.md", tmp_path / "memo.md")], collection="default")
    got = list(spans.get_finished_spans())
    names = by_name(got)
    ingest = names["factvault.ingest"][0]
    file = names["factvault.ingest.file"][0]
    assert file.parent.span_id == ingest.context.span_id
    assert file.attributes["factvault.chunks"] >= 1 and file.attributes["factvault.bytes"] > 0
    for stage in ("read", "parse", "context"):
        assert names[f"factvault.ingest.{stage}"][0].parent.span_id == file.context.span_id
    seen = texts_in_attributes(got)
    assert "47 spaces" not in seen and "memo.md" not in seen


class RecordingProxy:
    """A forwarding proxy in front of a llama.cpp server that records each request's
    ``traceparent`` header (the server itself keeps none)."""

    def __init__(self, upstream: str) -> None:
        self.seen: list[tuple[str, str | None]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                proxy.seen.append((self.path, self.headers.get("traceparent")))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {"Content-Type": self.headers.get("Content-Type", "application/json")}
                r = httpx.request(self.command, upstream + self.path, content=body,
                                  headers=headers, timeout=300)  # fmt: skip
                self.send_response(r.status_code)
                self.send_header("Content-Type", r.headers.get("content-type", "text/plain"))
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

            do_GET = do_POST = _forward  # noqa: N815 - http.server's names

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_a_trace_crosses_to_an_inference_endpoint(api, spans, models_dir) -> None:
    client, state = api
    gguf = materialize(BUNDLED["smollm2-135m"], models_dir)
    server = InferenceServer(gguf).start()
    proxy = RecordingProxy(server.url)
    try:
        state.register_remote_model("smollm2-remote", [proxy.url], path=gguf)
        state.activate_model("smollm2-remote")
        spans.clear()
        proxy.seen.clear()
        r = client.post("/v1/query", json={"question": QUESTION + " (remote)"})
        assert r.status_code == 200, r.text
        assert r.json()["model"]["endpoint"] == proxy.url
        got = list(spans.get_finished_spans())
        trace_id = f"{got[0].context.trace_id:032x}"
        assert len({s.context.trace_id for s in got}) == 1
        generations = [(path, tp) for path, tp in proxy.seen if "completions" in path]
        assert generations, proxy.seen
        assert all(tp and tp.split("-")[1] == trace_id for _, tp in generations), generations
        generate = by_name(got)["factvault.generate"][0]
        calls = [s for s in got if s.kind == SpanKind.CLIENT and s.parent
                 and s.parent.span_id == generate.context.span_id]  # fmt: skip
        assert calls and generate.attributes["factvault.endpoint"] == proxy.url
    finally:
        state.activate_model("smollm2-135m")
        proxy.server.shutdown()
        server.stop()


def test_tracing_is_off_without_an_exporter() -> None:
    assert not tracing.exporter_configured({})
    off = {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}
    assert not tracing.exporter_configured(off)
    assert tracing.exporter_configured({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert tracing.exporter_configured({"OTEL_TRACES_EXPORTER": "console"})
