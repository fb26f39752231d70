"""Frozen-weight attestation: a fingerprint of what a model computes, and its check.

An inference endpoint names its model, but a name proves nothing: a server restarted on
another GGUF (a different quantisation, a fine-tune, a wrong file) answers under the same
name. What weights compute does prove it. The fingerprint is the greedy continuation of a
few fixed probe prompts with the log-probability of every token and of its runners-up:
two servers of one GGUF agree on the tokens and, to rounding, on the numbers; other weights
differ at once (another model picks other tokens; another quantisation of the same model
moves the log-probabilities by far more than rounding does).

It is computed in this process from the GGUF when the file is here, or taken from a first
trusted endpoint, and stored with the model (models.fingerprint). Every endpoint is
probed against it when it joins a pool and periodically after (remote.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

# Short, unlike each other (prose, code, a number series, a list), with one plain answer.
PROBES = (
    "The capital city of France is",
    "def fibonacci(n):\n    ",
    "1, 1, 2, 3, 5, 8, 13,",
    "Colours of the rainbow: red, orange,",
)
PROBE_TOKENS = 8
TOP_K = 3
VERSION = 1
# Plain greedy decoding, every knob named: servers differ in their defaults (llama.cpp's
# server applies a repeat penalty of 1.1 unless told otherwise), and a penalty changes
# which token wins.
GREEDY = {
    "temperature": 0.0, "top_k": 1, "top_p": 1.0, "min_p": 0.0, "repeat_penalty": 1.0,
    "presence_penalty": 0.0, "frequency_penalty": 0.0,
}  # fmt: skip


class FingerprintError(RuntimeError):
    """A fingerprint could not be taken (the endpoint did not answer, or without logprobs)."""


@dataclass(frozen=True)
class Probe:
    prompt: str
    tokens: tuple[str, ...]
    logprobs: tuple[float, ...]  # of each chosen token
    top: tuple[tuple[tuple[str, float], ...], ...]  # the TOP_K alternatives at each step


def _probe(prompt: str, body: dict[str, Any]) -> Probe:
    """A probe from an OpenAI-style completion's ``logprobs`` (llama.cpp, vLLM, TGI)."""
    lp = body["choices"][0].get("logprobs") or {}
    tokens = lp.get("tokens") or []
    if not tokens:
        raise FingerprintError("the completion carried no log-probabilities")
    tops = lp.get("top_logprobs") or [{}] * len(tokens)
    return Probe(
        prompt,
        tuple(tokens),
        tuple(float(x) for x in lp.get("token_logprobs") or []),
        tuple(
            tuple(sorted(((t, float(v)) for t, v in (top or {}).items()), key=lambda kv: -kv[1]))
            for top in tops
        ),
    )


def from_llama(llama: Any) -> list[Probe]:
    """Probed in this process (a llama_cpp.Llama loaded with ``logits_all=True``)."""
    return [
        _probe(
            p,
            llama.create_completion(p, max_tokens=PROBE_TOKENS, logprobs=TOP_K, **GREEDY),
        )
        for p in PROBES
    ]


def from_gguf(path: str, n_threads: int) -> list[Probe]:
    """The fingerprint of a GGUF file, computed here (loaded once, then released)."""
    from llama_cpp import Llama

    llama = Llama(
        model_path=path, n_ctx=512, n_threads=n_threads, n_threads_batch=n_threads,
        n_batch=512, logits_all=True, use_mmap=True, verbose=False,
    )  # fmt: skip
    try:
        return from_llama(llama)
    finally:
        llama.close()


def from_endpoint(url: str, timeout: float = 60.0, post: Callable[..., Any] | None = None):
    """The fingerprint an endpoint serves (its ``/v1/completions``, greedy)."""
    send = post or httpx.post
    probes = []
    for prompt in PROBES:
        body = {
            "prompt": prompt, "max_tokens": PROBE_TOKENS, "logprobs": TOP_K, "stream": False,
            **GREEDY,
        }  # fmt: skip
        try:
            r = send(f"{url.rstrip('/')}/v1/completions", json=body, timeout=timeout)
            r.raise_for_status()
            probes.append(_probe(prompt, r.json()))
        except (httpx.HTTPError, ValueError, KeyError, IndexError) as exc:
            raise FingerprintError(f"{url}: probe failed ({exc})") from exc
    return probes


def take(path: Path | None, first_endpoint: str, n_threads: int, timeout: float) -> dict:
    """A new model's fingerprint, as stored: from its GGUF when the file is here, else
    from its first endpoint (which is then trusted: the others are checked against it)."""
    if path is not None:
        return to_json(from_gguf(str(path), n_threads), f"computed in-process from {path.name}")
    return to_json(
        from_endpoint(first_endpoint, timeout), f"taken from the first endpoint, {first_endpoint}"
    )


def to_json(probes: list[Probe], source: str) -> dict[str, Any]:
    return {
        "version": VERSION,
        "source": source,
        "probes": [
            {"prompt": p.prompt, "tokens": list(p.tokens), "logprobs": list(p.logprobs),
             "top": [[list(kv) for kv in step] for step in p.top]}
            for p in probes
        ],
    }  # fmt: skip


def from_json(data: dict[str, Any]) -> list[Probe]:
    return [
        Probe(
            p["prompt"], tuple(p["tokens"]), tuple(p["logprobs"]),
            tuple(tuple((t, float(v)) for t, v in step) for step in p["top"]),
        )
        for p in data["probes"]
    ]  # fmt: skip


def mismatch(expected: list[Probe], served: list[Probe], tolerance: float) -> str | None:
    """Why ``served`` is not the fingerprint ``expected`` (None when it is).

    Tokens must be identical; each chosen token's log-probability, and those of the
    alternatives both sides list, within ``tolerance`` (nats): rounding between two
    builds or thread counts moves them by far less."""
    for want, got in zip(expected, served, strict=True):
        if want.tokens != got.tokens:
            return (
                f"serves other weights: probe {want.prompt!r} continued "
                f"{''.join(got.tokens)!r}, the registered weights continue "
                f"{''.join(want.tokens)!r}"
            )
        worst = max(
            (abs(a - b) for a, b in zip(want.logprobs, got.logprobs, strict=False)), default=0.0
        )
        for w_step, g_step in zip(want.top, got.top, strict=False):
            g = dict(g_step)
            worst = max([worst] + [abs(v - g[t]) for t, v in w_step if t in g])
        if worst > tolerance or math.isnan(worst):
            return (
                f"serves other weights: log-probabilities differ by {worst:.3f} "
                f"(more than {tolerance}) on probe {want.prompt!r}"
            )
    return None
