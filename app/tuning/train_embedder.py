"""A copy of the bi-encoder fine-tuned on the corpus's own synthetic questions, on the CPU.

Training data is the train split of the synthetic question set (app/tuning/dataset.py):
each question with the chunk it was written for (as indexed: context, then text) and one
hard negative, the chunk BM25 ranks highest that is not it. The loss is
sentence-transformers' MultipleNegativesRankingLoss: every other chunk of a batch is a
negative too, and the batch sampler keeps a chunk from appearing twice in one batch (its
second question would otherwise teach that the chunk is a wrong answer to itself).

The weights start from the packaged MiniLM and are written to the data dir under
``embedders/tuned/minilm-<sha256 of the weights, 12>``; that sha256 goes into the index
version like any embedder's, so a retrained model means a new index version.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from app.core.embedder import MiniLMEmbedder
from app.core.embedder_choice import TUNED_DIR, tuned_name
from app.core.runtime import Runtime
from app.tuning.dataset import QuestionSet
from app.tuning.pairs import mine
from app.tuning.training import StepCallback, cpu_training_args, quiet, train_into
from ingest.index_points import index_text

log = logging.getLogger("factvault.tuning")


class TrainingFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class TrainSettings:
    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 3e-5
    warmup_ratio: float = 0.1
    max_seq_length: int = 256  # training cost grows with it; chunks are ~256 tokens
    seed: int = 12
    # Texts embedded at once with gradients: GradCache (CachedMultipleNegativesRankingLoss),
    # the same loss over the same batch with memory bounded by the mini-batch: measured
    # 2.3 GB peak against 9 GB for the whole batch (32 x 3 texts of 256 tokens) at once,
    # for 5% more time (bench/results/tuning-memory.md). 0: the whole batch at once.
    mini_batch_size: int = 8


@dataclass
class TrainReport:
    name: str  # the embedder's name: "tuned:minilm-<sha12>"
    path: Path
    sha256: str
    pairs: int
    steps: int
    seconds: float
    final_loss: float | None


def training_pairs(rt: Runtime, questions: QuestionSet) -> list[tuple[str, str, str]]:
    """(question, its chunk, BM25's best wrong chunk) as they are indexed."""
    examples = mine(rt, questions.train, index_text, negatives=1, mode="sparse", depth=8)
    return [(e.question, e.positive, e.negatives[0]) for e in examples]


def train_embedder(
    rt: Runtime,
    questions: QuestionSet,
    settings: TrainSettings | None = None,
    on_step: StepCallback | None = None,
) -> TrainReport:
    """Fine-tune MiniLM on the train split; the result lands in the data dir (an existing
    identical result is kept). ``on_step(step, total, loss)`` reports progress."""
    settings = settings or TrainSettings()
    pairs = training_pairs(rt, questions)
    if len(pairs) < settings.batch_size:
        raise TrainingFailed(
            f"{len(pairs)} training pair(s): at least one batch ({settings.batch_size}) is "
            "needed; write questions for more chunks (`factvault tune queries`)"
        )
    import torch
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.sentence_transformer.losses import (
        CachedMultipleNegativesRankingLoss,
        MultipleNegativesRankingLoss,
    )
    from sentence_transformers.sentence_transformer.training_args import BatchSamplers

    def run(work: Path, callback: object) -> int:
        torch.manual_seed(settings.seed)
        base = MiniLMEmbedder()._model_dir  # the packaged weights (never downloaded)
        model = SentenceTransformer(str(base), device="cpu", local_files_only=True)
        model.max_seq_length = settings.max_seq_length
        data = Dataset.from_dict(
            {
                "anchor": [p[0] for p in pairs],
                "positive": [p[1] for p in pairs],
                "negative": [p[2] for p in pairs],
            }
        )
        args = SentenceTransformerTrainingArguments(
            **cpu_training_args(settings, work), batch_sampler=BatchSamplers.NO_DUPLICATES
        )
        loss = (
            MultipleNegativesRankingLoss(model)
            if settings.mini_batch_size == 0
            else CachedMultipleNegativesRankingLoss(model, mini_batch_size=settings.mini_batch_size)
        )
        trainer = quiet(
            SentenceTransformerTrainer(
                model=model,
                args=args,
                train_dataset=data,
                loss=loss,
                callbacks=[callback],
            )
        )
        result = trainer.train()
        model.max_seq_length = MiniLMEmbedder().max_seq_length  # what the embedder serves
        model.save(str(work / "model"))
        return int(result.global_step)

    root = rt.settings.embedder_cache_dir / TUNED_DIR
    done = train_into(root, "minilm", run, on_step)
    name = tuned_name(done.sha256)
    log.info("tuned embedder %s: %d pairs, %.0f s", name, len(pairs), done.seconds)
    return TrainReport(
        name, done.path, done.sha256, len(pairs), done.steps, done.seconds, done.final_loss
    )
