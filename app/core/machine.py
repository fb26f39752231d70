"""A one-line description of the machine a benchmark or evaluation ran on."""

from __future__ import annotations

import os
import platform

import psutil


def _gpu() -> str:
    """What torch sees: the figures of a run on a GPU must say so."""
    import torch

    if torch.cuda.is_available():
        return f"GPU {torch.cuda.get_device_name(0)}"
    return "no GPU"


def describe() -> str:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(
                (ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), cpu
            )
    except OSError:
        pass
    mem = psutil.virtual_memory().total / 2**30
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{cpu or 'unknown CPU'}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, {_gpu()}; "
        f"Python {platform.python_version()} on {platform.system()} {platform.release()}; "
        f"1-min load average at start {load:.2f}"
    )
