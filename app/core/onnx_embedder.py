"""all-MiniLM-L6-v2 on ONNX Runtime with int8 weights: the same packaged model, faster.

Embedding is most of an ingest (93 % of it on the evaluation corpus with torch). This
embedder runs the packaged MiniLM weights on ONNX Runtime after dynamic int8 quantisation
of its matrices: the model is exported once from the package's safetensors (torch's ONNX
exporter), quantised with ``onnxruntime.quantization.quantize_dynamic``, and cached in the
data dir under the weights' sha256, so nothing is ever downloaded. The int8 file's own
sha256 is the embedder's ``weights_sha256``: its vectors differ slightly from torch's, so
an index built with it is an index version of its own.

Why not sentence-transformers' ``backend="onnx"``: it needs ``optimum-onnx``, which pins
transformers below 4.58 and would downgrade the transformers 5 this installation runs on.
ONNX Runtime, the ONNX format and torch's exporter are the same pieces it uses.

Each text is embedded alone (see ``embed_documents``), mean-pooled and L2-normalised, as
sentence-transformers does for this model.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

import numpy as np

from app.core.embedder import EmbedderUnavailable, MiniLMEmbedder, _sha256_file


class MiniLMInt8Embedder:
    name = "sentence-transformers/all-MiniLM-L6-v2 (onnx int8)"
    dimension = 384

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
        """The int8 model, named after the safetensors it was exported from."""
        return self.cache_dir / f"all-minilm-l6-v2-{self._torch.weights_sha256[:16]}-int8.onnx"

    @property
    def weights_sha256(self) -> str:
        self._ensure_exported()
        return _sha256_file(self.path)

    def warm_up(self) -> None:
        with self._lock:
            if self._session is None:
                self._ensure_exported()
                import onnxruntime as ort

                options = ort.SessionOptions()
                options.intra_op_num_threads = self.threads
                options.inter_op_num_threads = 1
                self._session = ort.InferenceSession(
                    str(self.path), options, providers=["CPUExecutionProvider"]
                )

    def count_tokens(self, text: str) -> int:
        return self._torch.count_tokens(text)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """Each text alone: int8 dynamic quantisation scales activations per call, so a
        text embedded beside others (padded to their length) would get a slightly different
        vector than alone. Alone, a text has one vector, whether at ingest, in a repair or
        as a query, and no padding is computed (faster here than batches of 32)."""
        self.warm_up()
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        tok = self._torch._get_tokenizer()
        cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
        for row, piece in enumerate(tok.encode_batch(texts, add_special_tokens=False)):
            ids = np.array([[cls, *piece.ids[: self.max_seq_length - 2], sep]], dtype=np.int64)
            ones = np.ones_like(ids)
            hidden = self._session.run(  # type: ignore[union-attr]
                ["last_hidden_state"],
                {"input_ids": ids, "attention_mask": ones, "token_type_ids": np.zeros_like(ids)},
            )[0][0]
            pooled = hidden.mean(axis=0)
            out[row] = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def close(self) -> None:
        with self._lock:
            self._session = None

    # -- the one-time export ----------------------------------------------------------

    def _ensure_exported(self) -> None:
        if self.path.is_file():
            return
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        try:
            import onnx
            import torch
            from onnxruntime.quantization import QuantType, quantize_dynamic
            from onnxruntime.transformers import optimizer
            from transformers import AutoModel
        except ImportError as exc:
            raise EmbedderUnavailable(
                f"embedder 'minilm-int8' needs onnxruntime and onnx ({exc})"
            ) from exc
        with tempfile.TemporaryDirectory(dir=self.cache_dir) as work:
            fp32 = Path(work) / "fp32.onnx"
            # Eager attention, traced with a padded batch: transformers skips an all-ones
            # mask, and a trace taken without padding would leave the mask out of the graph.
            bert = AutoModel.from_pretrained(
                str(self._source), local_files_only=True, attn_implementation="eager"
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

            model = Encoder().eval()
            ids = torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]], dtype=torch.long)
            with torch.no_grad():
                torch.onnx.export(
                    model,
                    (ids, (ids != 0).long(), torch.zeros_like(ids)),
                    str(fp32),
                    input_names=["input_ids", "attention_mask", "token_type_ids"],
                    output_names=["last_hidden_state"],
                    dynamic_axes={
                        name: {0: "batch", 1: "tokens"}
                        for name in (
                            "input_ids",
                            "attention_mask",
                            "token_type_ids",
                            "last_hidden_state",
                        )
                    },  # fmt: skip
                    opset_version=17,
                    dynamo=False,
                )
            # ONNX Runtime's BERT fusions (attention, layer norm, GELU as single kernels),
            # then int8 weights with per-channel scales: cosine to the torch vectors 0.99
            # (per-tensor: 0.95); the fusions add ~15 % speed and change no vector.
            fused = Path(work) / "fused.onnx"
            optimizer.optimize_model(
                str(fp32),
                model_type="bert",
                num_heads=bert.config.num_attention_heads,
                hidden_size=bert.config.hidden_size,
            ).save_model_to_file(str(fused))
            int8 = Path(work) / "int8.onnx"
            quantize_dynamic(
                str(fused), str(int8), weight_type=QuantType.QInt8, per_channel=True,
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )  # fmt: skip
            int8.replace(self.path)  # atomic: a crash leaves no half-written model
