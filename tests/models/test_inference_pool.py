"""A pool of real llama.cpp inference servers behind factvault, on loopback.

Two `llama_cpp.server` processes serve the same GGUF (SmolLM2, for the mechanics); the
service answers through them. Eight clients ask for a bounded time while one server is
drained, stopped and started again: no request fails, and every answer is byte-identical
to the one the same question gets with both servers up. A server killed with SIGKILL
mid-run fails at most the request it was answering, with a clear error. A server of
another GGUF under the same name is excluded and never answers. One content check runs
with the default model (Qwen2.5-Coder-1.5B) behind a server. Each test prints its figures
(pytest -s shows them)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from app.models.bundled import BUNDLED, materialize
from app.service import FactVault
from tests.fixtures import LiveServer, make_service, wait_until
from tests.inference import InferenceServer

pytestmark = pytest.mark.slow

QUESTIONS = [
    "How many days of paid annual leave does a full-time employee get?",
    "Where is the fire assembly point?",
    "How does the rate limiter refill tokens?",
    "Who approves expense claims?",
]
CLIENTS = 8
MAX_TOKENS = 40


@dataclass
class Pool:
    service: FactVault
    live: LiveServer
    a: InferenceServer
    b: InferenceServer
    reference: dict[str, str] = field(default_factory=dict)

    def ask(self, question: str) -> httpx.Response:
        body = {"question": question, "max_tokens": MAX_TOKENS}
        return httpx.post(f"{self.live.url}/v1/query", json=body, timeout=300)

    def states(self) -> dict[str, str]:
        models = httpx.get(f"{self.live.url}/v1/models", timeout=60).json()["data"]
        pool = next(m for m in models if m["name"] == "smollm2-pool")
        return {e["url"]: e["state"] for e in pool["endpoints"]}

    def wait_answering(
        self, url: str, after: Callable[[], bool] = lambda: True, seconds: float = 120
    ) -> None:
        """Until ``after()`` holds and the server at ``url`` has a request in flight."""
        pool_model = self.service.models.current
        assert pool_model is not None
        deadline = time.monotonic() + seconds
        while not (
            after() and any(e["url"] == url and e["inflight"] for e in pool_model.describe())
        ):
            assert time.monotonic() < deadline, f"{url} answered nothing in {seconds:.0f} s"
            time.sleep(0.05)

    def wait_state(self, url: str, state: str, seconds: float = 60) -> float:
        started = time.monotonic()
        while self.states().get(url) != state:
            assert time.monotonic() - started < seconds, (url, state, self.states())
            time.sleep(0.2)
        return time.monotonic() - started


@pytest.fixture(scope="module")
def pool(tmp_path_factory, minilm, models_dir) -> Iterator[Pool]:
    root = tmp_path_factory.mktemp("pool")
    service = make_service(
        root, minilm, models_dir, "smollm2-135m",
        answer_cache=False, inference_health_seconds=0.5, llm_max_queue=16,
        inference_endpoint_hosts=["127.0.0.1"],  # the test's servers, on loopback
        # One generation per request (no second attempt after "I don't know"), so two
        # asks land once on each server and a client's answer names the server it came from.
        answer_second_chance=False,
    )  # fmt: skip
    gguf = materialize(BUNDLED["smollm2-135m"], models_dir)
    a, b = InferenceServer(gguf).start(), InferenceServer(gguf).start()
    try:
        service.register_remote_model("smollm2-pool", [a.url, b.url], path=gguf)
        service.activate_model("smollm2-pool")
        with LiveServer(service) as live:
            p = Pool(service, live, a, b)
            # The reference: each question asked twice with both up (once on each server).
            for q in QUESTIONS:
                first, second = p.ask(q).json(), p.ask(q).json()
                assert {first["model"]["endpoint"], second["model"]["endpoint"]} == {a.url, b.url}
                assert first["answer"] == second["answer"], (first, second)
                p.reference[q] = first["answer"]
            yield p
    finally:
        service.close()
        a.stop()
        b.stop()


@pytest.fixture(autouse=True)
def b_running_after(pool: Pool) -> Iterator[None]:
    """Whatever a test did to server B, the next test finds it running: a failure that
    left B stopped must not fail the tests after it too."""
    yield
    if pool.b.proc is None:
        pool.b.start()


@dataclass
class Outcome:
    question: str
    status: int
    answer: str | None
    endpoint: str | None
    detail: str
    started: float
    finished: float


def run_clients(p: Pool, stop: threading.Event) -> tuple[list[Outcome], list[threading.Thread]]:
    """``CLIENTS`` threads asking in turn until ``stop`` is set."""
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        i = n
        while not stop.is_set():
            q = QUESTIONS[i % len(QUESTIONS)]
            i += 1
            t0 = time.monotonic()
            try:
                r = p.ask(q)
                body = r.json()
                o = Outcome(
                    q, r.status_code, body.get("answer"),
                    (body.get("model") or {}).get("endpoint"), body.get("detail", ""), t0,
                    time.monotonic(),
                )  # fmt: skip
            except httpx.HTTPError as exc:
                o = Outcome(q, 0, None, None, str(exc), t0, time.monotonic())
            with lock:
                outcomes.append(o)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    return outcomes, threads


def test_a_drained_server_changes_nothing(pool: Pool) -> None:
    p = pool
    stop = threading.Event()
    outcomes, threads = run_clients(p, stop)
    try:
        # Drain only once B has answered during the run and is answering again, so the
        # drain has a request of its own to let finish (a fixed sleep was too short when
        # the machine was slow: nothing had reached B yet).
        p.wait_answering(p.b.url, after=lambda: any(o.endpoint == p.b.url for o in list(outcomes)))
        t0 = time.monotonic()
        r = httpx.post(
            f"{p.live.url}/v1/models/smollm2-pool/endpoints/drain",
            json={"url": p.b.url, "wait_seconds": 120},
            timeout=180,
        )
        assert r.status_code == 200 and r.json()["state"] == "drained", r.text
        drained_at = time.monotonic()
        drain_s = drained_at - t0
        assert p.b.url not in p.states()  # it has left the pool
        p.b.stop()
        wait_until(  # one server answers everything meanwhile
            lambda: (
                sum(o.endpoint == p.a.url and o.started > drained_at for o in list(outcomes))
                >= CLIENTS
            ),
            120,
            "A answering alone",
        )
        p.b.start()
        add_at = time.monotonic()
        r = httpx.post(
            f"{p.live.url}/v1/models/smollm2-pool/endpoints", json={"url": p.b.url}, timeout=120
        )
        assert r.json()["state"] == "serving", r.text
        back_at = time.monotonic()
        deadline = time.monotonic() + 60
        while not any(o.endpoint == p.b.url and o.started > back_at for o in list(outcomes)):
            assert time.monotonic() < deadline, "the server brought back got no request"
            time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=300)
    failed = [o for o in outcomes if o.status != 200]
    differ = [o for o in outcomes if o.status == 200 and o.answer != p.reference[o.question]]
    on_b_while_out = [  # asked after B left the pool, answered by B before it was back
        o for o in outcomes
        if o.endpoint == p.b.url and drained_at < o.started and o.finished < add_at
    ]  # fmt: skip
    print(
        f"\ndrain: {len(outcomes)} requests from {CLIENTS} clients, {len(failed)} failed, "
        f"{len(outcomes) - len(failed) - len(differ)} answers identical to the reference, "
        f"{len(differ)} different; drain took {drain_s:.2f} s; answered by "
        f"A {sum(o.endpoint == p.a.url for o in outcomes)}, "
        f"B {sum(o.endpoint == p.b.url for o in outcomes)}"
    )
    assert failed == [] and differ == [] and on_b_while_out == []
    assert any(o.endpoint == p.b.url and o.finished <= drained_at for o in outcomes)


def test_a_killed_server_fails_only_what_it_was_answering(pool: Pool) -> None:
    p = pool
    stop = threading.Event()
    outcomes, threads = run_clients(p, stop)
    try:
        p.wait_answering(  # kill it while it is answering, once it has answered during the run
            p.b.url, after=lambda: any(o.endpoint == p.b.url for o in list(outcomes)), seconds=60
        )
        # The time before the signal: kill() returns once the process is reaped, and the
        # client may have seen the broken stream by then.
        killed_at = time.monotonic()
        p.b.kill()
        wait_until(  # the pool has seen it go, and the clients went on without it
            lambda: (
                p.states()[p.b.url] == "down"
                and sum(o.started > killed_at for o in list(outcomes)) >= CLIENTS
            ),
            120,
            "the pool to go on without B",
        )
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=300)
    failed = [o for o in outcomes if o.status != 200]
    differ = [o for o in outcomes if o.status == 200 and o.answer != p.reference[o.question]]
    print(
        f"\nSIGKILL: {len(outcomes)} requests, {len(failed)} failed "
        f"({'; '.join(o.detail for o in failed) or 'none'}), {len(differ)} different answers"
    )
    assert differ == []
    assert len(failed) <= 1  # the one request B was answering, if its tokens had begun
    for o in failed:  # a clear error naming the server, during the kill
        assert o.status == 503 and p.b.url in o.detail and "mid-answer" in o.detail, o
        assert o.started < killed_at < o.finished
    assert p.states()[p.b.url] == "down"
    p.b.start()  # the health check attests it again and it serves
    back = p.wait_state(p.b.url, "serving")
    print(f"SIGKILL: the restarted server was serving again {back:.2f} s after it started")


def test_an_impostor_is_excluded_and_never_answers(pool: Pool, models_dir) -> None:
    p = pool
    other = InferenceServer(materialize(BUNDLED["qwen2.5-coder-0.5b"], models_dir)).start()
    try:
        r = httpx.post(
            f"{p.live.url}/v1/models/smollm2-pool/endpoints", json={"url": other.url}, timeout=120
        )
        joined = r.json()
        assert joined["state"] == "excluded" and "serves other weights" in joined["reason"]
        listed = httpx.get(f"{p.live.url}/v1/models", timeout=60).json()["data"]
        shown = next(m for m in listed if m["name"] == "smollm2-pool")["endpoints"]
        assert {e["url"]: e["state"] for e in shown}[other.url] == "excluded"
        answers = [p.ask(q).json() for q in QUESTIONS * 2]
        assert all(a["model"]["endpoint"] in (p.a.url, p.b.url) for a in answers)
        assert all(
            a["answer"] == p.reference[q] for a, q in zip(answers, QUESTIONS * 2, strict=True)
        )
        # A pool whose only endpoint is the impostor never becomes active.
        p.service.register_remote_model(
            "smollm2-fake", [other.url], path=materialize(BUNDLED["smollm2-135m"], models_dir)
        )
        r = httpx.put(f"{p.live.url}/v1/models/active", json={"name": "smollm2-fake"}, timeout=300)
        assert r.status_code == 422 and "serves other weights" in r.json()["detail"]
        assert httpx.get(f"{p.live.url}/v1/models", timeout=60).json()["active"] == "smollm2-pool"
        print(f"\nimpostor: excluded ({joined['reason'][:120]}…); 0 of {len(answers)} answers")
    finally:
        other.stop()
        httpx.post(f"{p.live.url}/v1/models/smollm2-pool/endpoints/drain", json={"url": other.url})


def test_the_default_model_behind_a_server_answers_and_pools_swap(pool: Pool, models_dir) -> None:
    """Content, with Qwen2.5-Coder-1.5B served by llama.cpp's server: registered from the
    endpoint alone (its fingerprint taken from it), then swapped back to the SmolLM2 pool."""
    p = pool
    server = InferenceServer(materialize(BUNDLED["qwen2.5-coder-1.5b"], models_dir), threads=2)
    server.start()
    try:
        r = httpx.post(
            f"{p.live.url}/v1/models",
            json={"name": "qwen-pool", "endpoints": [server.url], "context_length": 2048},
            timeout=300,
        )
        assert r.status_code == 201, r.text
        assert "taken from the first endpoint" in r.json()["provenance"]
        r = httpx.put(f"{p.live.url}/v1/models/active", json={"name": "qwen-pool"}, timeout=300)
        assert r.status_code == 200, r.text
        answer = p.ask(QUESTIONS[0]).json()
        assert "27" in answer["answer"] and answer["citations"], answer
        assert answer["model"] == {
            "name": "qwen-pool", "sha256": r.json()["sha256"], "endpoint": server.url,
        }  # fmt: skip
    finally:
        httpx.put(f"{p.live.url}/v1/models/active", json={"name": "smollm2-pool"}, timeout=300)
        server.stop()
    assert p.ask(QUESTIONS[1]).json()["answer"] == p.reference[QUESTIONS[1]]


def test_the_cli_registers_and_drains_endpoints(pool: Pool) -> None:
    """`factvault models add --endpoint` (SQL only: works beside the running service) and
    `models endpoint drain|add` (through the running service)."""
    import os
    import subprocess
    import sys

    p = pool
    env = {
        **os.environ, "FACTVAULT_DATA_DIR": str(p.service.settings.data_dir),
        "FACTVAULT_PORT": str(p.live.port), "HF_HUB_OFFLINE": "1",
    }  # fmt: skip

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app.cli", *args], env=env, capture_output=True, text=True
        )

    added = cli("models", "add", "--name", "cli-pool", "--endpoint", p.a.url)
    assert added.returncode == 0, added.stderr
    assert "served by 1 endpoint(s)" in added.stdout
    bad = cli("models", "add", "--name", "nowhere", "--endpoint", "http://127.0.0.1:9")
    assert bad.returncode != 0 and "no fingerprint" not in bad.stdout
    assert "127.0.0.1:9" in bad.stderr  # the unreachable endpoint, named
    drained = cli("models", "endpoint", "drain", "smollm2-pool", p.b.url)
    assert drained.returncode == 0 and f"{p.b.url}: drained" in drained.stdout, drained
    assert p.b.url not in p.states()
    back = cli("models", "endpoint", "add", "smollm2-pool", p.b.url)
    assert back.returncode == 0 and f"{p.b.url}: serving" in back.stdout, back


def test_a_replica_follows_endpoint_changes_made_through_another(pool: Pool) -> None:
    """API replicas share SQL: an endpoint drained or added through one is drained or added
    here when this replica next follows SQL (written to SQL here as the other would). The
    last endpoint of a pool cannot be drained."""
    from app.models.registry import set_endpoints

    p = pool
    with p.service.runtime.db.session() as s:
        set_endpoints(s, "smollm2-pool", [p.a.url])
    assert p.service.follow_active_model() is False  # the same model: only its endpoints
    assert p.states() == {p.a.url: "serving"}
    answered = {p.ask(q).json()["model"]["endpoint"] for q in QUESTIONS}
    assert answered == {p.a.url}
    conv = httpx.post(f"{p.live.url}/v1/conversations", timeout=60).json()["id"]
    said = httpx.post(
        f"{p.live.url}/v1/conversations/{conv}/messages",
        json={"question": QUESTIONS[1], "max_tokens": MAX_TOKENS}, timeout=300,
    )  # fmt: skip
    assert said.status_code == 200 and said.json()["model"]["endpoint"] == p.a.url, said.text
    stored = httpx.get(f"{p.live.url}/v1/conversations/{conv}", timeout=60).json()
    assert stored["turns"][0]["model"]["endpoint"] == p.a.url  # the turn names its server
    last = httpx.post(
        f"{p.live.url}/v1/models/smollm2-pool/endpoints/drain",
        json={"url": p.a.url, "wait_seconds": 0}, timeout=60,
    )  # fmt: skip
    assert last.status_code == 422 and "last endpoint" in last.text, last.text
    assert p.states() == {p.a.url: "serving"}
    with p.service.runtime.db.session() as s:
        set_endpoints(s, "smollm2-pool", [p.a.url, p.b.url])
    p.service.follow_active_model()
    assert p.states() == {p.a.url: "serving", p.b.url: "serving"}
