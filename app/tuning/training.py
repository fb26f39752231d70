"""What every training run here shares: a work folder beside the results (a killed run
leaves only that, removed by the next run), progress reported per step, and the result
moved into place whole, named by the sha256 of its weights."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from app.core.hashing import sha256_file

StepCallback = Callable[[int, int, float | None], None]  # (step, total, latest loss)
WEIGHTS = "model.safetensors"


class RunSettings(Protocol):
    """What both trainers' settings carry (TrainSettings, RerankerSettings)."""

    epochs: int
    batch_size: int
    learning_rate: float
    warmup_ratio: float
    seed: int


def cpu_training_args(settings: RunSettings, work: Path) -> dict[str, Any]:
    """The training arguments both trainers share: CPU only, seeded, nothing saved midway
    (a run is minutes; a killed one starts over), losses logged each step for progress,
    no progress bar or report service."""
    return {
        "output_dir": str(work / "trainer"),
        "num_train_epochs": settings.epochs,
        "per_device_train_batch_size": settings.batch_size,
        "learning_rate": settings.learning_rate,
        "warmup_steps": settings.warmup_ratio,  # a float below 1: a share of the steps
        "seed": settings.seed,
        "data_seed": settings.seed,
        "use_cpu": True,
        "save_strategy": "no",
        "logging_steps": 1,
        "report_to": [],
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
    }


@dataclass
class Trained:
    sha256: str
    path: Path
    steps: int
    seconds: float
    final_loss: float | None


def progress_callback(on_step: StepCallback | None, losses: list[float]) -> Any:
    """A transformers TrainerCallback recording each logged loss and reporting each step."""
    from transformers import TrainerCallback

    class Report(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                losses.append(float(logs["loss"]))

        def on_step_end(self, args, state, control, **kwargs):
            if on_step is not None:
                on_step(state.global_step, state.max_steps, losses[-1] if losses else None)

    return Report()


def train_into(
    root: Path,
    prefix: str,
    run: Callable[[Path, Any], int],
    on_step: StepCallback | None = None,
) -> Trained:
    """``run(work_dir, callback)`` trains (with ``callback`` among its trainer's callbacks),
    saves the model into ``work_dir / "model"`` and returns the steps taken; the model ends
    up in ``root / f"{prefix}-<sha256 of its weights, 12>"`` (an identical one is kept)."""
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(".training-*"):  # a run killed mid-way (nothing else reads them)
        shutil.rmtree(stale, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=".training-", dir=root))
    losses: list[float] = []
    started = time.perf_counter()
    try:
        steps = run(work, progress_callback(on_step, losses))
        out = work / "model"
        sha = sha256_file(out / WEIGHTS)
        final = root / f"{prefix}-{sha[:12]}"
        if not final.exists():
            out.rename(final)  # whole or not at all
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Trained(sha, final, steps, time.perf_counter() - started, losses[-1] if losses else None)


def quiet(trainer: Any) -> Any:
    """No per-step dict printed on stdout: progress goes to the step callback."""
    from transformers import PrinterCallback

    trainer.remove_callback(PrinterCallback)
    return trainer
