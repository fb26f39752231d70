"""all-MiniLM-L6-v2 on ONNX Runtime: the same packaged weights, embedded faster.

Embedding is most of an ingest (93 % of it on the evaluation corpus with torch) and a part
of every answer (the evidence step embeds its windows). The packaged MiniLM safetensors are
exported once with torch's ONNX exporter and ONNX Runtime's BERT fusions (attention, layer
norm and GELU as single kernels); nothing is ever downloaded. Two embedders run the result:

- ``MiniLMOnnxEmbedder`` (the default ``minilm`` on a CPU): the fused graph in fp32. Its
  vectors are torch's to float rounding (cosine 0.9999999 on the evaluation corpus), so it
  *is* the ``minilm`` embedder, under the same name and the safetensors' sha256: an index
  built with torch is queried with it and the other way round, with no reindex. The export
  is a cache of the installed packages, not of the data, so it lives in the machine's cache
  (``Settings.onnx_cache_dir``), one file for every data dir; if it cannot be made, the
  embedder says why in the log and runs torch instead. ~2x torch's speed here
  (bench/results/ingest.md).
- ``MiniLMInt8Embedder`` (``minilm-int8``): the same graph with int8 weights, faster again
  but its vectors differ (cosine ~0.99), so it is an embedder of its own, named by the int8
  file's sha256 and kept in the data dir.

Why not sentence-transformers' ``backend="onnx"``: it needs ``optimum-onnx``, which pins
transformers below 4.58 and would downgrade the transformers 5 this installation runs on.
ONNX Runtime, the ONNX format and torch's exporter are the same pieces it uses.

Each text is embedded alone (see ``embed_documents``), mean-pooled and L2-normalised, as
sentence-transformers does for this model.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from pathlib import Path

import numpy as np

from app.core.embedder import EmbedderUnavailable, MiniLMEmbedder, _sha256_file

log = logging.getLogger(__name__)


class _OnnxMiniLM:
    """An ONNX Runtime session over an exported MiniLM, with the package's tokenizer."""

    name: str
    dimension = 384
    quantized: bool

    def __init__(
        self,
        cache_dir: Path,
        batch_size: int = 32,
        max_seq_length: int = 512,
        threads: int | None = None,
    ) -> None:
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self.threads = threads or os.cpu_count() or 1
        self._torch = MiniLMEmbedder(batch_size, max_seq_length)  # for its files and tokenizer
        self._source = self._torch._model_dir
        self.cache_dir = Path(cache_dir)
        self._session = None
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        """The exported model, named after the safetensors it was exported from (and, for
        the fp32 cache shared by installations, the ONNX Runtime that fused it)."""
        raise NotImplementedError

    def warm_up(self) -> None:
        with self._lock:
            if self._session is None:
                self._session = self._open()

    def _open(self):
        export_minilm(self._source, self.path, quantize=self.quantized)
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        return ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])

    def count_tokens(self, text: str) -> int:
        return self._torch.count_tokens(text)

    # Texts run together, sorted by length so little is padding. int8: one at a time, since
    # dynamic quantisation scales activations per call and a text padded beside others
    # would get a slightly different vector than alone. fp32: 4 at a time, the same vectors
    # as alone to rounding; on 240 chunks of the contextual corpus 1.96x torch's speed
    # against 1.78x alone and 1.69x by 16 (the fused attention slows on wide padding).
    group = 1

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """Each text's vector: [CLS] pieces [SEP] (cut to ``max_seq_length``), mean-pooled
        over its own tokens and L2-normalised, as sentence-transformers does."""
        self.warm_up()
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        tok = self._torch._get_tokenizer()
        cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
        rows = [
            [cls, *piece.ids[: self.max_seq_length - 2], sep]
            for piece in tok.encode_batch(texts, add_special_tokens=False)
        ]
        order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
        for start in range(0, len(order), self.group):
            taken = order[start : start + self.group]
            width = max(len(rows[i]) for i in taken)
            ids = np.zeros((len(taken), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for r, i in enumerate(taken):
                ids[r, : len(rows[i])] = rows[i]
                mask[r, : len(rows[i])] = 1
            hidden = self._session.run(  # type: ignore[union-attr]
                ["last_hidden_state"],
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )[0]
            pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
            norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            out[taken] = pooled / norms
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def close(self) -> None:
        with self._lock:
            self._session = None


class MiniLMOnnxEmbedder(_OnnxMiniLM):
    """``minilm`` on ONNX Runtime in fp32: the same name and weights as the torch embedder
    (its vectors are torch's to float rounding), falling back to torch where the export
    or ONNX Runtime is missing."""

    name = MiniLMEmbedder.name
    quantized = False
    group = 4

    def __init__(self, cache_dir: Path, **kwargs) -> None:
        super().__init__(cache_dir, **kwargs)
        self.backend = "onnx"  # "torch" once it has fallen back

    @property
    def path(self) -> Path:
        import onnxruntime

        sha = self._torch.weights_sha256[:16]
        return self.cache_dir / f"all-minilm-l6-v2-{sha}-ort{onnxruntime.__version__}.onnx"

    @property
    def weights_sha256(self) -> str:
        return self._torch.weights_sha256

    def warm_up(self) -> None:
        if self.backend == "onnx":
            super().warm_up()

    def _open(self):
        try:
            return super()._open()
        except (ImportError, EmbedderUnavailable, OSError, RuntimeError) as exc:
            log.warning("minilm on ONNX Runtime is not available (%s): running it on torch", exc)
            self.backend = "torch"
            self._torch.warm_up()
            return None

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        if self.backend == "torch":
            return self._torch.embed_documents(texts)
        return super().embed_documents(texts)

    def close(self) -> None:
        super().close()
        self._torch.close()


class MiniLMInt8Embedder(_OnnxMiniLM):
    name = "sentence-transformers/all-MiniLM-L6-v2 (onnx int8)"
    quantized = True

    @property
    def path(self) -> Path:
        """The int8 model, named after the safetensors it was exported from."""
        return self.cache_dir / f"all-minilm-l6-v2-{self._torch.weights_sha256[:16]}-int8.onnx"

    @property
    def weights_sha256(self) -> str:
        export_minilm(self._source, self.path, quantize=True)
        return _sha256_file(self.path)


def export_minilm(source: Path, target: Path, quantize: bool) -> None:
    """The packaged MiniLM at ``source`` exported to ONNX, fused, and (``quantize``) given
    int8 weights, written atomically to ``target``; nothing to do when it is there. Two
    processes exporting at once each write their own temporary file; the last rename wins
    and both files are the same model."""
    if target.is_file():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        import onnx
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from onnxruntime.transformers import optimizer
        from transformers import AutoModel
    except ImportError as exc:
        raise EmbedderUnavailable(f"exporting MiniLM needs onnxruntime and onnx ({exc})") from exc
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        fp32 = Path(work) / "fp32.onnx"
        # Eager attention, traced with a padded batch: transformers skips an all-ones
        # mask, and a trace taken without padding would leave the mask out of the graph.
        bert = AutoModel.from_pretrained(
            str(source), local_files_only=True, attn_implementation="eager"
        ).eval()

        class Encoder(torch.nn.Module):  # the three inputs by name, one output
            def __init__(self) -> None:
                super().__init__()
                self.bert = bert

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.bert(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    token_type_ids=token_type_ids,
                ).last_hidden_state

        names = ("input_ids", "attention_mask", "token_type_ids", "last_hidden_state")
        ids = torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]], dtype=torch.long)
        with torch.no_grad():
            torch.onnx.export(
                Encoder().eval(),
                (ids, (ids != 0).long(), torch.zeros_like(ids)),
                str(fp32),
                input_names=list(names[:3]),
                output_names=[names[3]],
                dynamic_axes={name: {0: "batch", 1: "tokens"} for name in names},
                opset_version=17,
                dynamo=False,
            )
        # ONNX Runtime's BERT fusions (attention, layer norm, GELU as single kernels): ~15 %
        # faster, no vector changed. int8 weights with per-channel scales: cosine to the
        # torch vectors 0.99 (per-tensor: 0.95).
        fused = Path(work) / "fused.onnx"
        optimizer.optimize_model(
            str(fp32),
            model_type="bert",
            num_heads=bert.config.num_attention_heads,
            hidden_size=bert.config.hidden_size,
        ).save_model_to_file(str(fused))
        if quantize:
            int8 = Path(work) / "int8.onnx"
            quantize_dynamic(
                str(fused), str(int8), weight_type=QuantType.QInt8, per_channel=True,
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )  # fmt: skip
            fused = int8
        fused.replace(target)  # atomic: a crash leaves no half-written model
