"""One loaded GGUF model run by llama.cpp, and the frozen-weights load path.

A llama.cpp context is not thread-safe, so a model runs one generation at a time. Callers
first take a place in the model's bounded queue (``admitted``), before waiting on any lock,
so a full queue answers ``Overloaded`` at once instead of making everybody wait. A running
generation stops early when its caller says so (``should_stop``: the client went away, or
the server's time limit passed): while it waits for the model (it gives up its queue place
at once), before the prompt is read (a request whose client has gone costs nothing), while
the prompt is read (llama.cpp's abort callback, asked between the compute graph's nodes,
so a long prefill stops within a fraction of a second) and between generated tokens.

The prompt is rendered here with the model's own chat template (the GGUF's, as llama.cpp's
chat handler would) and passed as token ids, so the service knows exactly how many prompt
tokens there are and how many llama.cpp reused from its context instead of reading them
again (kv_states.py keeps recent conversations' contexts for that).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.models.kv_states import KVStates, common_prefix


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
    prompt_reused: int = 0  # prompt tokens llama.cpp did not read again (its context had them)
    endpoint: str | None = None  # the inference endpoint that wrote it (None: this process)

    @property
    def prompt_evaluated(self) -> int:
        return self.prompt_tokens - self.prompt_reused


class StreamedReply:
    """A reply as its pieces arrive, from llama.cpp in this process or from an endpoint:
    the text so far, when the first piece came, and why it ended (the source's finish
    reason, or the caller's ``should_stop``)."""

    def __init__(
        self, on_token: Callable[[str], None] | None, should_stop: StopCheck | None
    ) -> None:
        self.started = time.perf_counter()
        self.first: float | None = None
        self.finish: str | None = None
        self.parts: list[str] = []
        self._on_token = on_token
        self._should_stop = should_stop

    def take(self, piece: str | None, finish: str | None) -> bool:
        """One streamed chunk; returns True when the caller asks to stop reading."""
        if piece:
            if self.first is None:
                self.first = time.perf_counter() - self.started
            self.parts.append(piece)
            if self._on_token is not None:
                self._on_token(piece)
        self.finish = finish or self.finish
        reason = self._should_stop() if self._should_stop is not None else None
        if reason:
            self.finish = reason
        return bool(reason)

    @property
    def text(self) -> str:
        return "".join(self.parts)


@dataclass(frozen=True)
class Rendered:
    """A chat rendered by the model's template: the token ids and where a reply ends."""

    tokens: list[int]
    stop: list[str]
    stopping_criteria: Any


class ChatTemplate:
    """A model's tokenizer and chat template: the GGUF's own (ChatML where the file has
    none), rendered and tokenized as llama-cpp-python's chat handler does. Works on a
    vocabulary-only load too (a remote pool counts its prompts' tokens with one)."""

    def __init__(self, llama: Any) -> None:
        self.llama = llama
        self._formatter: Any = None

    def count_tokens(self, text: str) -> int:
        return len(self.llama.tokenize(text.encode(), add_bos=False, special=False))

    def render(self, messages: list[dict[str, str]]) -> Rendered:
        from llama_cpp import llama_chat_format as chat

        if self._formatter is None:
            template = self.llama.metadata.get("tokenizer.chat_template")
            if template:
                eos, bos = self.llama.token_eos(), self.llama.token_bos()
                text = self.llama._model.token_get_text
                self._formatter = chat.Jinja2ChatFormatter(
                    template=template,
                    eos_token=text(eos) if eos != -1 else "",
                    bos_token=text(bos) if bos != -1 else "",
                    stop_token_ids=[eos],
                )
            else:
                self._formatter = chat.format_chatml
        out = self._formatter(messages=messages)
        tokens = self.llama.tokenize(
            out.prompt.encode("utf-8"), add_bos=not out.added_special, special=True
        )
        stop = [] if out.stop is None else [out.stop] if isinstance(out.stop, str) else out.stop
        return Rendered(tokens, list(stop), out.stopping_criteria)


LOCK_POLL_SECONDS = 0.1  # how often a request waiting for the model asks whether to give up


class PrefillAbort:
    """llama.cpp's abort callback for the time a prompt is read, asking ``should_stop``.

    llama.cpp calls it between the nodes of each compute graph, from the thread that runs
    the graph; in Python that costs the GIL each time, so it is installed only while a
    prompt is read (hundreds of tokens per graph) and removed at the first generated token,
    where the per-token check takes over."""

    def __init__(self, ctx: Any, should_stop: StopCheck) -> None:
        import llama_cpp

        self._lib = llama_cpp
        self._ctx = ctx
        self._should_stop = should_stop
        self.reason: str | None = None
        self._callback = llama_cpp.ggml_abort_callback(self._ask)  # kept: C holds a pointer
        llama_cpp.llama_set_abort_callback(ctx, self._callback, None)
        self._installed = True

    @classmethod
    def install(cls, llama: Any, should_stop: StopCheck | None) -> PrefillAbort | _NoAbort:
        ctx = getattr(getattr(llama, "_ctx", None), "ctx", None)
        if should_stop is None or ctx is None:
            return _NoAbort()
        return cls(ctx, should_stop)

    def _ask(self, _data: Any) -> bool:
        if self.reason is None:
            self.reason = self._should_stop()
        return self.reason is not None

    def remove(self) -> None:
        if self._installed:
            self._installed = False
            self._lib.llama_set_abort_callback(self._ctx, self._lib.ggml_abort_callback(), None)


class _NoAbort:
    reason: str | None = None

    def remove(self) -> None:
        pass


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
    states: KVStates | None = None  # saved contexts of recent conversations (kv_states.py)
    template: ChatTemplate = field(init=False, repr=False)
    runs_here: bool = field(default=True, init=False)  # on this machine's CPU

    def __post_init__(self) -> None:
        # One running + max_queue waiting.
        self._slots = threading.BoundedSemaphore(self.max_queue + 1)
        self.template = ChatTemplate(self.llama)

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
        return self.template.count_tokens(text)

    def render(self, messages: list[dict[str, str]]) -> Rendered:
        return self.template.render(messages)

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
        """Runs when the model is free (callers that queue take ``admitted`` first).
        ``keep_state``: a next turn is expected, so the context is saved (kv_states.py)."""
        started = time.perf_counter()

        def given_up() -> GenerationResult | None:
            """The caller gave up before its prompt was read: nothing read for nobody."""
            reason = should_stop() if should_stop is not None else None
            if reason is None:
                return None
            return GenerationResult("", 0, 0, time.perf_counter() - started, None, reason)

        while not self._run_lock.acquire(timeout=LOCK_POLL_SECONDS):
            if (result := given_up()) is not None:
                return result
        try:
            if (result := given_up()) is not None:
                return result
            return self._generate(
                messages, max_tokens, temperature, on_token, stop, should_stop, keep_state
            )
        except ValueError as exc:  # e.g. "Requested tokens exceed context window"
            raise GenerationFailed(f"the model could not run this prompt: {exc}") from exc
        finally:
            self._run_lock.release()

    def _reusable(self, tokens: list[int]) -> int:
        """The prompt tokens llama-cpp-python will take from its context (Llama.generate):
        the shared prefix, less one when the whole prompt is shared (it decodes one token
        again to get fresh logits), all of it when the logits are the live ones."""
        live = np.asarray(self.llama.input_ids[: self.llama.n_tokens])
        shared = common_prefix(live, np.asarray(tokens, dtype=np.intc))
        if shared == len(tokens):
            exact = len(live) == len(tokens) and not getattr(self.llama, "_requires_eval", True)
            return shared if exact else shared - 1
        return shared

    def _generate(
        self,
        messages: list[dict[str, str]],
        max_tokens: int,
        temperature: float,
        on_token: Callable[[str], None] | None,
        stop: list[str] | None,
        should_stop: StopCheck | None,
        keep_state: bool,
    ) -> GenerationResult:
        reply = StreamedReply(on_token, should_stop)
        prompt = self.render(messages)
        if self.states is not None:
            self.states.restore(self.llama, prompt.tokens)
        reused = self._reusable(prompt.tokens)
        abort = PrefillAbort.install(self.llama, should_stop)
        stream: Generator[dict[str, Any], None, None] = self.llama.create_completion(
            prompt=prompt.tokens,
            max_tokens=max_tokens,
            temperature=temperature,
            top_k=1 if temperature == 0 else 40,
            stream=True,
            stop=(stop or []) + prompt.stop,
            stopping_criteria=prompt.stopping_criteria,
        )
        try:
            for chunk in stream:
                abort.remove()  # the prompt is read: tokens are checked one by one below
                choice = chunk["choices"][0]
                if reply.take(choice.get("text"), choice.get("finish_reason")):
                    break
        except RuntimeError:
            if abort.reason is None:
                raise
            # llama_decode was aborted mid-prompt: the context keeps the batches it finished
            # (llama-cpp-python counts only those), the next request re-reads the rest.
            reply.finish = abort.reason
        finally:
            abort.remove()
            stream.close()  # ends llama.cpp's generator, so the next request starts clean
        if keep_state and self.states is not None and abort.reason is None:
            self.states.save(self.llama)
        text = reply.text
        completion_tokens = len(self.llama.tokenize(text.encode(), add_bos=False)) if text else 0
        return GenerationResult(
            text=text.strip(),
            prompt_tokens=len(prompt.tokens),
            prompt_reused=max(reused, 0),
            completion_tokens=completion_tokens,
            seconds=time.perf_counter() - reply.started,
            first_token_seconds=reply.first,
            finish_reason=reply.finish,
        )

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self.states is not None:
                self.states.clear()
            close = getattr(self.llama, "close", None)
            if close is not None:
                close()
            self.llama = None


def load_llama(
    path: str, n_ctx: int, n_threads: int, n_gpu_layers: int = 0, flash_attn: bool = False
) -> Any:
    """Open a GGUF read-only (mmap) with llama.cpp; the chat template comes from the file.
    ``n_gpu_layers`` layers go to a GPU when llama.cpp was built with one (-1: all);
    ``flash_attn`` is off for the service (bench/llama_speed.py measures it on)."""
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
            n_gpu_layers=n_gpu_layers,
            flash_attn=flash_attn,
            verbose=False,
        )
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelLoadError(f"llama.cpp could not load {path}: {exc}") from exc


def load_vocabulary(path: str) -> Any:
    """The GGUF's tokenizer and chat template only (no weights): counting a remote model's
    prompt tokens exactly."""
    from llama_cpp import Llama

    try:
        return Llama(model_path=path, vocab_only=True, verbose=False)
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelLoadError(f"llama.cpp could not read the vocabulary of {path}: {exc}") from exc
