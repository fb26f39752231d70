"""A model served by a pool of OpenAI-compatible inference endpoints instead of in-process.

The design this comes from puts each frozen checkpoint on inference servers behind a load
balancer, so one server can be taken offline without any change in behaviour. A
:class:`RemoteModel` is that pool, with the surface of an in-process
:class:`~app.models.runner.LoadedModel` (``admitted``, ``generate``, ``count_tokens``,
``context_tokens``), so the answerer, hot-swap and the API treat both alike:

- **Only attested endpoints answer.** An endpoint joins by answering the model's probe
  prompts exactly as the registered weights do (fingerprint.py), and is probed again every
  ``attest_seconds``; one that serves other weights is ``excluded`` with the reason and
  never gets a request.
- **Failures before the first token are retried.** A request goes to the least busy
  serving endpoint; if that one cannot be reached, times out or answers 5xx before the
  first token, it is marked ``down`` and the request goes to another. Once tokens have
  been sent on, a failure ends the request with a clear error (the caller has seen part of
  an answer; a second endpoint would write it again from the start).
- **Health.** Every ``health_seconds`` each endpoint's ``/v1/models`` is asked; a ``down``
  endpoint that answers again is attested again before it serves.
- **Drain.** ``drain(url)`` sends it nothing new; requests it is answering finish; then it
  leaves the pool. ``add(url)`` brings one in (attested first).

Requests use ``/v1/chat/completions`` (llama.cpp's server, vLLM, TGI and Ollama all serve
it), so each server applies the model's own chat template. Prompt tokens are counted here
with the GGUF's tokenizer when the file is here (a vocabulary-only load), else estimated.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.models import fingerprint
from app.models.fingerprint import FingerprintError, Probe
from app.models.runner import (
    ChatTemplate,
    GenerationFailed,
    GenerationResult,
    ModelLoadError,
    Overloaded,
    StopCheck,
    StreamedReply,
)

log = logging.getLogger("factvault.inference")

BYTES_PER_TOKEN = 3  # a cautious estimate where no tokenizer is at hand (prompts are fitted)


@dataclass
class PoolSettings:
    connect_timeout: float = 3.0
    read_timeout: float = 120.0
    health_seconds: float = 2.0
    attest_seconds: float = 300.0
    logprob_tolerance: float = 0.05
    per_endpoint: int = 1  # requests one endpoint runs at once (llama.cpp's server: one)
    # Each request starts from a fresh context on its server (a one-token request first
    # replaces what the server kept from its last prompt), so an answer never depends on
    # which server answered what before; see ``_fresh_context``.
    fresh_context: bool = True


@dataclass
class Endpoint:
    url: str
    state: str = "joining"  # joining | serving | down | draining | excluded
    reason: str = ""
    inflight: int = 0
    answered: int = 0
    attested_at: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url, "state": self.state, "reason": self.reason,
            "inflight": self.inflight, "answered": self.answered,
        }  # fmt: skip


class _Unavailable(Exception):
    """The endpoint failed before sending a token: the request may go elsewhere."""


@dataclass
class RemoteModel:
    name: str
    sha256: str
    expected: list[Probe]
    urls: list[str]
    context: int
    template: ChatTemplate | None = None
    settings: PoolSettings = field(default_factory=PoolSettings)
    max_queue: int = 8
    inflight: int = 0  # leases (manager.py)
    retired: bool = False
    closed: bool = False
    states: None = None  # no saved contexts: each server keeps its own
    runs_here: bool = False  # generation runs on the endpoints, not this machine's CPU
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    _cond: threading.Condition = field(default_factory=threading.Condition, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _slots: threading.BoundedSemaphore | None = field(default=None, repr=False)
    _http: httpx.Client | None = field(default=None, repr=False)

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> RemoteModel:
        """Attest every endpoint; at least one must serve the registered weights."""
        self._http = httpx.Client(
            timeout=httpx.Timeout(self.settings.read_timeout, connect=self.settings.connect_timeout)
        )
        self._slots = threading.BoundedSemaphore(
            self.max_queue + self.settings.per_endpoint * max(len(self.urls), 1)
        )
        threads = [threading.Thread(target=self.add, args=(u,)) for u in self.urls]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if not any(e.state == "serving" for e in self.endpoints.values()):
            reasons = "; ".join(f"{e.url}: {e.reason}" for e in self.endpoints.values())
            self.close()
            raise ModelLoadError(f"no endpoint serves model {self.name!r}: {reasons}")
        threading.Thread(target=self._watch, daemon=True, name=f"pool-{self.name}").start()
        return self

    def close(self) -> None:
        self.closed = True
        self._stop.set()
        if self._http is not None:
            self._http.close()

    @property
    def context_tokens(self) -> int:
        return self.context

    def count_tokens(self, text: str) -> int:
        if self.template is not None:
            return self.template.count_tokens(text)
        return len(text.encode()) // BYTES_PER_TOKEN + 1

    # -- membership -------------------------------------------------------------------

    def add(self, url: str) -> Endpoint:
        """Bring an endpoint in: it serves once it has answered the probes as the registered
        weights do."""
        with self._cond:
            endpoint = self.endpoints.setdefault(url, Endpoint(url))
            endpoint.state, endpoint.reason = "joining", ""
        self._attest(endpoint)
        return endpoint

    def drain(self, url: str, wait: float = 0.0) -> bool:
        """Send it nothing new; it leaves the pool when its last request ends. Returns
        whether it has left (waiting up to ``wait`` seconds for that)."""
        deadline = time.monotonic() + wait
        with self._cond:
            endpoint = self.endpoints.get(url)
            if endpoint is None:
                return True
            endpoint.state, endpoint.reason = "draining", "drained by an operator"
            while endpoint.inflight and time.monotonic() < deadline:
                self._cond.wait(timeout=max(deadline - time.monotonic(), 0.01))
            if endpoint.inflight == 0:
                self.endpoints.pop(url, None)  # its last request may have removed it already
                self._cond.notify_all()
                return True
            return False

    def follow(self, urls: list[str]) -> tuple[list[str], list[str]]:
        """Match the pool to the registered list (another replica added or drained an
        endpoint in SQL): a new URL is attested before it serves, a gone one is drained.
        Returns (added, drained)."""
        with self._cond:
            known = {u for u, e in self.endpoints.items() if e.state != "draining"}
        added = [u for u in urls if u not in known]
        gone = [u for u in known if u not in urls]
        for url in gone:
            self.drain(url)
        for url in added:
            self.add(url)
        return added, gone

    def describe(self) -> list[dict[str, Any]]:
        with self._cond:
            return [e.as_dict() for e in self.endpoints.values()]

    def _attest(self, endpoint: Endpoint) -> None:
        try:
            served = fingerprint.from_endpoint(
                endpoint.url, timeout=self.settings.read_timeout, post=self._post
            )
            why = fingerprint.mismatch(self.expected, served, self.settings.logprob_tolerance)
        except FingerprintError as exc:
            self._set(endpoint, "down", f"unreachable or unusable: {exc}")
            return
        if why is not None:
            self._set(endpoint, "excluded", why)
            log.warning("inference endpoint %s excluded from %s: %s", endpoint.url, self.name, why)
            return
        endpoint.attested_at = time.monotonic()
        self._set(endpoint, "serving", "")

    def _post(self, url: str, **kwargs: Any) -> httpx.Response:
        assert self._http is not None
        return self._http.post(url, **kwargs)

    def _set(self, endpoint: Endpoint, state: str, reason: str) -> None:
        with self._cond:
            if endpoint.state == "draining" or self.endpoints.get(endpoint.url) is not endpoint:
                return  # an operator took it out meanwhile
            if endpoint.state != state:
                log.info("inference endpoint %s of %s: %s", endpoint.url, self.name, state)
            endpoint.state, endpoint.reason = state, reason
            self._cond.notify_all()

    def _watch(self) -> None:
        """Health checks: down endpoints that answer again are attested again; serving
        ones are probed every ``attest_seconds``; idle ones that stop answering go down.
        An endpoint answering one of our requests is not asked (llama.cpp's server answers
        ``/v1/models`` only between generations); a failure there is seen by the request."""
        while not self._stop.wait(self.settings.health_seconds):
            with self._cond:
                endpoints = list(self.endpoints.values())
            for e in endpoints:
                if e.state not in ("serving", "down") or e.inflight or self._stop.is_set():
                    continue
                try:
                    assert self._http is not None
                    alive = self._http.get(f"{e.url}/v1/models", timeout=5.0).status_code < 500
                except httpx.HTTPError:
                    alive = False
                if e.state == "down" and alive:
                    self._attest(e)
                elif e.state == "serving" and not alive and not e.inflight:
                    self._set(e, "down", "health check failed: no answer from /v1/models")
                elif (
                    e.state == "serving"
                    and time.monotonic() - e.attested_at > self.settings.attest_seconds
                ):
                    self._attest(e)

    # -- requests ---------------------------------------------------------------------

    @contextmanager
    def admitted(self) -> Iterator[None]:
        assert self._slots is not None
        if not self._slots.acquire(blocking=False):
            raise Overloaded()
        try:
            yield
        finally:
            self._slots.release()

    @contextmanager
    def _endpoint(self, tried: set[str]) -> Iterator[Endpoint]:
        """The least busy serving endpoint not tried yet, waiting while all are busy."""
        deadline = time.monotonic() + self.settings.read_timeout
        with self._cond:
            while True:
                serving = [
                    e for e in self.endpoints.values()
                    if e.state == "serving" and e.url not in tried
                ]  # fmt: skip
                free = [e for e in serving if e.inflight < self.settings.per_endpoint]
                if free:
                    endpoint = min(free, key=lambda e: (e.inflight, e.answered))
                    break
                if not serving:
                    states = "; ".join(
                        f"{e.url}: {e.state}{' (' + e.reason + ')' if e.reason else ''}"
                        for e in self.endpoints.values()
                    )
                    raise GenerationFailed(
                        f"no inference endpoint of {self.name!r} could answer"
                        + (f" ({states})" if states else " (the pool is empty)")
                    )
                if time.monotonic() > deadline:
                    raise Overloaded()
                self._cond.wait(timeout=0.5)
            endpoint.inflight += 1
            endpoint.answered += 1
        try:
            yield endpoint
        finally:
            with self._cond:
                endpoint.inflight -= 1
                if endpoint.state == "draining" and endpoint.inflight == 0:
                    self.endpoints.pop(endpoint.url, None)
                self._cond.notify_all()

    def generate(
        self,
        messages: list[dict[str, str]],
        max_tokens: int = 256,
        temperature: float = 0.0,
        on_token: Callable[[str], None] | None = None,
        stop: list[str] | None = None,
        should_stop: StopCheck | None = None,
        keep_state: bool = False,
    ) -> GenerationResult:
        """One answer from one endpoint. ``keep_state`` is the in-process model's (a saved
        context); a server keeps its own, so it is ignored here."""
        tried: set[str] = set()
        while True:
            with self._endpoint(tried) as endpoint:
                tried.add(endpoint.url)
                try:
                    return self._stream(
                        endpoint, messages, max_tokens, temperature, on_token, stop, should_stop
                    )
                except _Unavailable as exc:
                    self._set(endpoint, "down", str(exc))
                    log.warning("inference endpoint %s failed, trying another: %s", endpoint.url,
                                exc)  # fmt: skip

    def _fresh_context(self, endpoint: Endpoint) -> None:
        """Make the server forget its last prompt before this one.

        llama.cpp keeps the previous prompt's KV cache and evaluates only the tokens after
        the shared prefix, in batches whose shape depends on that prefix; different batch
        shapes round differently, and at a near-tie greedy decoding then picks another
        token. So the same question could get another answer from a server that last
        answered something else. After a fixed one-token request every prompt is evaluated
        from the same state on every server: the answer depends on the question and the
        weights only. It costs the server's reuse of a shared prompt prefix."""
        assert self._http is not None
        body = {"prompt": "\n", "max_tokens": 1, **fingerprint.GREEDY}
        r = self._http.post(f"{endpoint.url}/v1/completions", json=body)
        if r.status_code >= 500:
            raise _Unavailable(f"answered {r.status_code}")

    def _stream(
        self,
        endpoint: Endpoint,
        messages: list[dict[str, str]],
        max_tokens: int,
        temperature: float,
        on_token: Callable[[str], None] | None,
        stop: list[str] | None,
        should_stop: StopCheck | None,
    ) -> GenerationResult:
        assert self._http is not None
        reply = StreamedReply(on_token, should_stop)
        body = {
            "model": self.name, "messages": messages, "max_tokens": max_tokens,
            "stream": True, "stop": stop or None,
            **(fingerprint.GREEDY if temperature == 0 else {"temperature": temperature}),
        }  # fmt: skip
        try:
            if self.settings.fresh_context:
                self._fresh_context(endpoint)
            with self._http.stream(
                "POST", f"{endpoint.url}/v1/chat/completions", json=body
            ) as response:
                if response.status_code >= 500:
                    raise _Unavailable(f"answered {response.status_code}")
                if response.status_code >= 400:
                    response.read()
                    raise GenerationFailed(
                        f"inference endpoint {endpoint.url} refused the request "
                        f"({response.status_code}: {response.text[:200]})"
                    )
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    choice = json.loads(data)["choices"][0]
                    piece = (choice.get("delta") or {}).get("content")
                    if reply.take(piece, choice.get("finish_reason")):
                        break
        except (httpx.HTTPError, ValueError, KeyError, IndexError) as exc:
            if not reply.parts:
                raise _Unavailable(f"failed before the first token ({exc})") from exc
            self._set(endpoint, "down", f"failed mid-answer ({exc})")
            raise GenerationFailed(
                f"inference endpoint {endpoint.url} failed mid-answer ({exc}); "
                "the answer is incomplete"
            ) from exc
        if reply.first is None and reply.finish is None:
            raise _Unavailable("the stream ended without an answer")
        text = reply.text
        rendered = self.template.render(messages) if self.template is not None else None
        prompt_tokens = (
            len(rendered.tokens)
            if rendered is not None
            else sum(self.count_tokens(m["content"]) for m in messages)
        )
        return GenerationResult(
            text=text.strip(),
            prompt_tokens=prompt_tokens,
            completion_tokens=self.count_tokens(text) if text else 0,
            seconds=time.perf_counter() - reply.started,
            first_token_seconds=reply.first,
            finish_reason=reply.finish,
            endpoint=endpoint.url,
        )
