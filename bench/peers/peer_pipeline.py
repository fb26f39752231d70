"""The peer: a LlamaIndex pipeline configured as PrivateGPT 0.6 configures it, answering
questions over a folder of documents. Runs in its own virtualenv (bench/peers/.venv, `make
peer`) and is driven by bench/peers/side_by_side.py over stdin/stdout, one JSON object per
line; it never imports factvault and factvault never imports it.

What is PrivateGPT's and what is not:
- ingest: SimpleDirectoryReader's own readers per extension (no OCR: a scanned PDF reads
  as nothing, as it does for PrivateGPT's users), SentenceWindowNodeParser with window 3,
  the HuggingFace embedder;
- chat: ContextChatEngine with a retriever of similarity_top_k=2, the
  MetadataReplacementPostProcessor that swaps each sentence for its window, PrivateGPT's
  default query system prompt, ChatML prompts, max_new_tokens 512, context window 3900;
- changed for the comparison: greedy decoding (temperature 0, PrivateGPT uses 0.1) so
  both pipelines are deterministic; the GGUF, the embedder weights (all-MiniLM-L6-v2, the
  weights factvault's default embedder runs) and the llama.cpp build are factvault's;
  LlamaIndex's in-memory vector store instead of Qdrant (the same cosine top-k).

Requests: {"op": "ingest", "corpus": DIR, "skip": ["restricted/"]},
{"op": "ask", "question": Q, "history": [[user, assistant], ...]}, {"op": "stats"},
{"op": "quit"}. Every reply is one line: {"ok": true, ...} or {"ok": false, "error": ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

# PrivateGPT 0.6's settings.yaml, ui.default_query_system_prompt.
SYSTEM_PROMPT = (
    "You can only answer questions about the provided context. If you know the answer but "
    "it is not based in the provided context, don't provide the answer, just state the "
    "answer is not in the context provided."
)
TOP_K = 2
WINDOW = 3
MAX_NEW_TOKENS = 512
CONTEXT_WINDOW = 3900


def messages_to_prompt(messages: Any) -> str:
    """ChatML, as PrivateGPT's ``chatml`` prompt style writes it."""
    prompt = ""
    for m in messages:
        role = str(getattr(m.role, "value", m.role)).lower()
        prompt += f"<|im_start|>{role}\n{(m.content or '').strip()}<|im_end|>\n"
    return prompt + "<|im_start|>assistant\n"


def completion_to_prompt(completion: str) -> str:
    return (
        f"<|im_start|>system\n{SYSTEM_PROMPT}<|im_end|>\n"
        f"<|im_start|>user\n{completion.strip()}<|im_end|>\n<|im_start|>assistant\n"
    )


class Peer:
    def __init__(self, gguf: Path, embedder: Path, threads: int) -> None:
        from llama_index.core import Settings
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding
        from llama_index.llms.llama_cpp import LlamaCPP

        self.prompts: list[str] = []

        def record(messages: Any) -> str:
            text = messages_to_prompt(messages)
            self.prompts.append(text)
            return text

        self.embed = HuggingFaceEmbedding(model_name=str(embedder), device="cpu")
        self.llm = LlamaCPP(
            model_path=str(gguf),
            temperature=0.0,
            max_new_tokens=MAX_NEW_TOKENS,
            context_window=CONTEXT_WINDOW,
            generate_kwargs={},
            model_kwargs={"n_gpu_layers": 0, "n_threads": threads},
            messages_to_prompt=record,
            completion_to_prompt=completion_to_prompt,
            verbose=False,
        )
        Settings.llm = self.llm
        Settings.embed_model = self.embed
        self.index = None

    def ingest(self, corpus: Path, skip: list[str]) -> dict:
        from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
        from llama_index.core.node_parser import SentenceWindowNodeParser

        files = sorted(
            p
            for p in corpus.rglob("*")
            if p.is_file() and not any(p.relative_to(corpus).as_posix().startswith(s) for s in skip)
        )
        documents, refused = [], {}
        for path in files:  # one file at a time: a file its readers cannot read is reported
            try:
                docs = SimpleDirectoryReader(input_files=[str(path)]).load_data()
            except Exception as exc:  # any reader failure is the file's, not the run's
                refused[path.relative_to(corpus).as_posix()] = f"{type(exc).__name__}: {exc}"
                continue
            for d in docs:
                d.metadata["source"] = path.relative_to(corpus).as_posix()
            documents += docs
        parser = SentenceWindowNodeParser.from_defaults(window_size=WINDOW)
        nodes = parser.get_nodes_from_documents(documents)
        self.index = VectorStoreIndex(nodes, embed_model=self.embed)
        return {"files": len(files), "nodes": len(nodes), "refused": refused}

    def ask(self, question: str, history: list[list[str]]) -> dict:
        from llama_index.core.chat_engine import ContextChatEngine
        from llama_index.core.llms import ChatMessage, MessageRole
        from llama_index.core.postprocessor import MetadataReplacementPostProcessor

        if self.index is None:
            raise RuntimeError("ingest first")
        engine = ContextChatEngine.from_defaults(
            retriever=self.index.as_retriever(similarity_top_k=TOP_K),
            llm=self.llm,
            system_prompt=SYSTEM_PROMPT,
            node_postprocessors=[MetadataReplacementPostProcessor(target_metadata_key="window")],
        )
        chat_history = []
        for user, assistant in history:
            chat_history.append(ChatMessage(role=MessageRole.USER, content=user))
            chat_history.append(ChatMessage(role=MessageRole.ASSISTANT, content=assistant))
        self.prompts.clear()
        t0 = time.perf_counter()
        first_token = first_shown = None
        response = engine.stream_chat(question, chat_history=chat_history)
        parts = []
        for token in response.response_gen:
            now = time.perf_counter() - t0
            if first_token is None:
                first_token = now
            if first_shown is None and token.strip():
                first_shown = now
            parts.append(token)
        total = time.perf_counter() - t0
        prompt = self.prompts[-1] if self.prompts else ""
        tokens = self.llm._model.tokenize(prompt.encode(), special=True) if prompt else []
        return {
            "answer": "".join(parts).strip(),
            "sources": list(
                dict.fromkeys(n.node.metadata["source"] for n in response.source_nodes)
            ),
            "ttft_s": first_token,
            "first_shown_s": first_shown,
            "total_s": total,
            "prompt_tokens": len(tokens),
        }

    def stats(self) -> dict:
        import resource

        return {"peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gguf", type=Path, required=True)
    ap.add_argument("--embedder", type=Path, required=True)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    peer = Peer(args.gguf, args.embedder, args.threads)
    out = sys.stdout
    sys.stdout = sys.stderr  # library prints must not reach the protocol stream
    print(json.dumps({"ok": True, "ready": True}), file=out, flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        try:
            if req["op"] == "ingest":
                reply = peer.ingest(Path(req["corpus"]), req.get("skip", []))
            elif req["op"] == "ask":
                reply = peer.ask(req["question"], req.get("history", []))
            elif req["op"] == "stats":
                reply = peer.stats()
            elif req["op"] == "quit":
                break
            else:
                raise ValueError(f"unknown op {req['op']!r}")
            print(json.dumps({"ok": True, **reply}), file=out, flush=True)
        except Exception as exc:  # reported to the driver, which records it
            error = f"{type(exc).__name__}: {exc}"
            print(json.dumps({"ok": False, "error": error}), file=out, flush=True)


if __name__ == "__main__":
    main()
