"""Saved llama.cpp contexts, so a conversation's next turn reads only its new tokens.

llama.cpp keeps one context per loaded model and reuses the longest prefix the next prompt
shares with what it holds. A conversation laid out so that each turn extends the previous
one (system, earlier turns, then the new evidence and question) therefore costs only its new
tokens, as long as nothing else ran in between. When something did (another conversation,
a single question), the context holds other tokens; this store keeps the context of recent
conversations (their token ids and llama.cpp's state bytes) and puts the best match back
before a turn runs. It is bounded in bytes and evicts the least recently used entry.

A state is about 28 KiB per token for the 1.5B model (57 MiB at 2,000 tokens); saving it
takes ~50 ms and restoring ~25 ms on the 2-core machine, against ~35 s to read 2,000 tokens
again. Only callers that expect a next turn save (conversations, chat completions).
All calls happen under the model's run lock: llama.cpp contexts are not thread-safe.
"""

from __future__ import annotations

import ctypes
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count
from typing import Any

import numpy as np

MIN_GAIN = 32  # restoring costs ~25 ms; below this many extra tokens reading them is cheaper


def common_prefix(a: np.ndarray, b: np.ndarray) -> int:
    """How many leading token ids two sequences share."""
    m = min(len(a), len(b))
    differ = np.flatnonzero(a[:m] != b[:m])
    return int(differ[0]) if len(differ) else m


@dataclass
class _Saved:
    tokens: np.ndarray
    state: bytes


class KVStates:
    def __init__(self, capacity_bytes: int) -> None:
        self.capacity = capacity_bytes
        self._entries: OrderedDict[int, _Saved] = OrderedDict()
        self._ids = count()
        self.restores = 0
        self.evictions = 0

    @property
    def bytes(self) -> int:
        return sum(len(e.state) for e in self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def restore(self, llama: Any, prompt: Sequence[int]) -> int:
        """Load the saved context that shares the longest prefix with ``prompt``, if it beats
        what the live context shares by ``MIN_GAIN`` tokens; returns the tokens restored."""
        if not self._entries:
            return 0
        tokens = np.asarray(prompt, dtype=np.intc)
        live = common_prefix(np.asarray(llama.input_ids[: llama.n_tokens]), tokens)
        best_id, best = None, live + MIN_GAIN - 1
        for key, entry in self._entries.items():
            shared = common_prefix(entry.tokens, tokens)
            if shared > best:
                best_id, best = key, shared
        if best_id is None:
            return 0
        entry = self._entries[best_id]
        self._entries.move_to_end(best_id)
        import llama_cpp

        data = (ctypes.c_uint8 * len(entry.state)).from_buffer_copy(entry.state)
        if llama_cpp.llama_state_set_data(llama.ctx, data, len(entry.state)) != len(entry.state):
            return 0  # the context is unchanged in that case: llama.cpp checks before writing
        n = len(entry.tokens)
        llama.input_ids[:n] = entry.tokens
        llama.n_tokens = n
        # Tells llama-cpp-python the logits are not from a live decode: it decodes at least
        # one token of the prompt before sampling.
        llama._requires_eval = True
        self.restores += 1
        return best

    def save(self, llama: Any) -> None:
        """Keep the live context (prompt and reply); drop older states it extends."""
        import llama_cpp

        if self.capacity <= 0 or llama.n_tokens == 0:
            return
        tokens = np.array(llama.input_ids[: llama.n_tokens], dtype=np.intc)
        size = llama_cpp.llama_state_get_size(llama.ctx)
        if size > self.capacity:
            return
        buf = (ctypes.c_uint8 * size)()
        n = llama_cpp.llama_state_get_data(llama.ctx, buf, size)
        extended = [
            k for k, e in self._entries.items() if common_prefix(e.tokens, tokens) == len(e.tokens)
        ]
        for key in extended:  # this conversation's earlier turns: the new state covers them
            del self._entries[key]
        self._entries[next(self._ids)] = _Saved(tokens, bytes(memoryview(buf)[:n]))
        while self.bytes > self.capacity and len(self._entries) > 1:
            self._entries.popitem(last=False)
            self.evictions += 1

    def clear(self) -> None:
        self._entries.clear()
