"""One loaded GGUF model run by llama.cpp, and the frozen-weights load path.

A llama.cpp context is not thread-safe, so a model runs one generation at a time. Callers
first take a place in the model's bounded queue (``admitted``), before waiting on any lock,
so a full queue answers ``Overloaded`` at once instead of making everybody wait. A running
generation stops early when its caller says so (``should_stop``: the client went away, or
the server's time limit passed).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


class Overloaded(RuntimeError):
    """The model's queue is full; the caller should retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: int = 2) -> None:
        super().__init__("the model is busy: too many queued requests")
        self.retry_after = retry_after


class ModelLoadError(RuntimeError):
    pass


class GenerationFailed(RuntimeError):
    """llama.cpp refused or broke off a generation (reported with a stable code)."""


StopCheck = Callable[[], str | None]  # returns why to stop ("cancelled", "time_limit"), or None


@dataclass
class GenerationResult:
    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    first_token_seconds: float | None
    finish_reason: str | None = None  # stop | length | cancelled | time_limit


@dataclass
class LoadedModel:
    name: str
    sha256: str
    path: str
    llama: Any  # llama_cpp.Llama
    max_queue: int = 8
    _run_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _slots: threading.BoundedSemaphore | None = field(default=None, repr=False)
    inflight: int = 0
    retired: bool = False
    closed: bool = False

    def __post_init__(self) -> None:
        # One running + max_queue waiting.
        self._slots = threading.BoundedSemaphore(self.max_queue + 1)

    @contextmanager
    def admitted(self) -> Iterator[None]:
        """A place in this model's queue (one running + ``max_queue`` waiting), taken without
        blocking: a full queue raises ``Overloaded`` at once."""
        assert self._slots is not None
        if not self._slots.acquire(blocking=False):
            raise Overloaded()
        try:
            yield
        finally:
            self._slots.release()

    @property
    def context_tokens(self) -> int:
        """The context window this model was loaded with (prompt + reply must fit in it)."""
        return int(self.llama.n_ctx())

    def count_tokens(self, text: str) -> int:
        return len(self.llama.tokenize(text.encode(), add_bos=False, special=False))

    def generate(
        self,
        messages: list[dict[str, str]],
        max_tokens: int = 256,
        temperature: float = 0.0,
        on_token: Callable[[str], None] | None = None,
        stop: list[str] | None = None,
        should_stop: StopCheck | None = None,
    ) -> GenerationResult:
        """Runs when the model is free (callers that queue take ``admitted`` first)."""
        with self._run_lock:
            try:
                return self._generate(
                    messages, max_tokens, temperature, on_token, stop, should_stop
                )
            except ValueError as exc:  # e.g. "Requested tokens exceed context window"
                raise GenerationFailed(f"the model could not run this prompt: {exc}") from exc

    def _generate(
        self,
        messages: list[dict[str, str]],
        max_tokens: int,
        temperature: float,
        on_token: Callable[[str], None] | None,
        stop: list[str] | None,
        should_stop: StopCheck | None,
    ) -> GenerationResult:
        started = time.perf_counter()
        first: float | None = None
        parts: list[str] = []
        finish = None
        stream: Generator[dict[str, Any], None, None] = self.llama.create_chat_completion(
            messages=messages,
            max_tokens=max_tokens,
            temperature=temperature,
            top_k=1 if temperature == 0 else 40,
            stream=True,
            stop=stop,
        )
        try:
            for chunk in stream:
                choice = chunk["choices"][0]
                piece = choice.get("delta", {}).get("content")
                if piece:
                    if first is None:
                        first = time.perf_counter() - started
                    parts.append(piece)
                    if on_token is not None:
                        on_token(piece)
                finish = choice.get("finish_reason") or finish
                reason = should_stop() if should_stop is not None else None
                if reason:
                    finish = reason
                    break
        finally:
            stream.close()  # ends llama.cpp's generator, so the next request starts clean
        text = "".join(parts)
        # A stream carries no usage figures: count the messages' tokens (the chat template's
        # few role markers are not included) and the reply's.
        prompt_text = self.llama.tokenize(
            "".join(m["content"] for m in messages).encode(), add_bos=False, special=True
        )
        completion_tokens = len(self.llama.tokenize(text.encode(), add_bos=False)) if text else 0
        return GenerationResult(
            text=text.strip(),
            prompt_tokens=len(prompt_text),
            completion_tokens=completion_tokens,
            seconds=time.perf_counter() - started,
            first_token_seconds=first,
            finish_reason=finish,
        )

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            close = getattr(self.llama, "close", None)
            if close is not None:
                close()
            self.llama = None


def load_llama(path: str, n_ctx: int, n_threads: int) -> Any:
    """Open a GGUF read-only (mmap) with llama.cpp; the chat template comes from the file."""
    try:
        from llama_cpp import Llama
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ModelLoadError(
            "llama-cpp-python is not installed: run `make install` (it builds the wheel once)"
        ) from exc
    try:
        return Llama(
            model_path=path,
            n_ctx=n_ctx,
            n_threads=n_threads,
            n_threads_batch=n_threads,
            n_batch=512,
            use_mmap=True,
            use_mlock=False,
            verbose=False,
        )
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelLoadError(f"llama.cpp could not load {path}: {exc}") from exc
