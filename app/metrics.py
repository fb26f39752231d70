"""Prometheus text metrics without a client library: counters and latency sums per stage."""

from __future__ import annotations

import threading
from collections import defaultdict


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, int], int] = defaultdict(int)
        self.stage_seconds: dict[str, float] = defaultdict(float)
        self.stage_count: dict[str, int] = defaultdict(int)
        self.tokens_generated = 0
        self.generation_seconds = 0.0

    def request(self, route: str, status: int) -> None:
        with self._lock:
            self.requests[(route, status)] += 1

    def stage(self, name: str, seconds: float) -> None:
        with self._lock:
            self.stage_seconds[name] += seconds
            self.stage_count[name] += 1

    def generated(self, tokens: int, seconds: float) -> None:
        with self._lock:
            self.tokens_generated += tokens
            self.generation_seconds += seconds

    def render(self, active_model: str | None) -> str:
        lines = [
            "# HELP factvault_requests_total HTTP requests by route and status.",
            "# TYPE factvault_requests_total counter",
        ]
        with self._lock:
            for (route, status), n in sorted(self.requests.items()):
                lines.append(f'factvault_requests_total{{route="{route}",status="{status}"}} {n}')
            lines += [
                "# HELP factvault_stage_seconds Time spent per request stage.",
                "# TYPE factvault_stage_seconds summary",
            ]
            for name in sorted(self.stage_seconds):
                lines.append(
                    f'factvault_stage_seconds_sum{{stage="{name}"}} {self.stage_seconds[name]:.6f}'
                )
                lines.append(
                    f'factvault_stage_seconds_count{{stage="{name}"}} {self.stage_count[name]}'
                )
            tps = (
                self.tokens_generated / self.generation_seconds if self.generation_seconds else 0.0
            )
            lines += [
                "# TYPE factvault_generated_tokens_total counter",
                f"factvault_generated_tokens_total {self.tokens_generated}",
                "# TYPE factvault_generation_tokens_per_second gauge",
                f"factvault_generation_tokens_per_second {tps:.3f}",
                "# TYPE factvault_active_model_info gauge",
            ]
        if active_model:
            lines.append(f'factvault_active_model_info{{name="{active_model}"}} 1')
        return "\n".join(lines) + "\n"
