"""A cross-encoder reranker trained on the corpus's own synthetic questions, on the CPU.

It starts from the packaged MiniLM's weights (a bi-encoder: the classification head is new)
and learns, for each train question, to score the chunk it was written for above the
chunks hybrid retrieval wrongly ranks near it (the candidates it will rerank in service):
sentence-transformers' CrossEncoderTrainer with binary cross-entropy, one positive and
``negatives`` hard negatives per question. It reads what the reranker stage shows it
(context, then text: app/retrieval/rerank.py). The model is written to the data dir under
``rerankers/tuned/minilm-ce-<sha256 of the weights, 12>`` and used with
``FACTVAULT_RERANKER=tuned`` (the newest) on the top ``FACTVAULT_RERANK_CANDIDATES``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from app.core.embedder import MiniLMEmbedder
from app.core.runtime import Runtime
from app.retrieval.rerank import TUNED_RERANKERS, rerank_text
from app.tuning.dataset import QuestionSet
from app.tuning.pairs import mine
from app.tuning.train_embedder import TrainingFailed
from app.tuning.training import StepCallback, cpu_training_args, quiet, train_into

log = logging.getLogger("factvault.tuning")


@dataclass(frozen=True)
class RerankerSettings:
    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 5e-5
    warmup_ratio: float = 0.1
    negatives: int = 3  # per question, from hybrid retrieval's top 10
    max_length: int = 320  # question + context + chunk, in word pieces
    seed: int = 12


@dataclass
class RerankerReport:
    name: str  # "tuned:minilm-ce-<sha12>"
    path: Path
    sha256: str
    examples: int  # (question, chunk, label) rows trained on
    steps: int
    seconds: float
    final_loss: float | None


def train_reranker(
    rt: Runtime,
    questions: QuestionSet,
    settings: RerankerSettings | None = None,
    on_step: StepCallback | None = None,
) -> RerankerReport:
    settings = settings or RerankerSettings()
    examples = mine(
        rt, questions.train, rerank_text, negatives=settings.negatives, mode="hybrid", depth=10
    )
    rows = [(e.question, e.positive, 1.0) for e in examples] + [
        (e.question, n, 0.0) for e in examples for n in e.negatives
    ]
    if len(rows) < settings.batch_size:
        raise TrainingFailed(
            f"{len(rows)} training row(s): at least one batch ({settings.batch_size}) is "
            "needed; write questions for more chunks (`factvault tune queries`)"
        )
    import torch
    from datasets import Dataset
    from sentence_transformers.cross_encoder import (
        CrossEncoder,
        CrossEncoderTrainer,
        CrossEncoderTrainingArguments,
    )
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    def run(work: Path, callback: object) -> int:
        torch.manual_seed(settings.seed)  # the new classification head starts the same
        model = CrossEncoder(
            str(MiniLMEmbedder()._model_dir), num_labels=1, max_length=settings.max_length,
            device="cpu", local_files_only=True,
        )  # fmt: skip
        data = Dataset.from_dict(
            {
                "query": [r[0] for r in rows],
                "passage": [r[1] for r in rows],
                "label": [r[2] for r in rows],
            }
        )
        args = CrossEncoderTrainingArguments(**cpu_training_args(settings, work))
        trainer = quiet(
            CrossEncoderTrainer(
                model=model,
                args=args,
                train_dataset=data,
                loss=BinaryCrossEntropyLoss(model, pos_weight=torch.tensor(settings.negatives)),
                callbacks=[callback],
            )
        )
        result = trainer.train()
        model.save(str(work / "model"))
        return int(result.global_step)

    done = train_into(rt.settings.reranker_cache_dir / TUNED_RERANKERS, "minilm-ce", run, on_step)
    name = f"tuned:{done.path.name}"
    log.info("tuned reranker %s: %d rows, %.0f s", name, len(rows), done.seconds)
    return RerankerReport(
        name, done.path, done.sha256, len(rows), done.steps, done.seconds, done.final_loss
    )
