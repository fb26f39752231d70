"""The answer benchmark's configurations: what each one switches, the named presets
(the product's default, the stages before issues 18 and 32, the ablations measured), and
``name=...,key=value`` parsed over them. Settings overrides, not code: a configuration is
the service's own answer path with some settings changed."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

# The on/off switches of a configuration (``name=...,press_lost=off``).
FLAGS = ("second_chance", "arithmetic", "two_hops", "press", "press_lost", "early_release")


@dataclass(frozen=True)
class AnswerConfig:
    name: str
    evidence: str = "windows"
    prompt: str = "v2"
    citations: str = "attributed"
    top_k: int = 4
    evidence_tokens: int = 240
    model: str = "qwen2.5-coder-1.5b"
    second_chance: bool = True
    arithmetic: bool = True
    two_hops: bool = True
    press: bool = False
    press_lost: bool = False
    early_release: bool = True

    def describe(self) -> str:
        ev = f"windows({self.evidence_tokens})" if self.evidence == "windows" else "chunks"
        more = "".join(
            f" {flag}" for flag in FLAGS if getattr(self, flag)
        )  # fmt: skip
        return (
            f"evidence={ev} prompt={self.prompt} citations={self.citations} top_k={self.top_k}"
            + more
        )

    def settings_overrides(self) -> dict[str, object]:
        return {
            "answer_evidence": self.evidence,
            "answer_evidence_tokens": self.evidence_tokens,
            "answer_prompt": self.prompt,
            "answer_citations": self.citations,
            "answer_top_k": self.top_k,
            "answer_second_chance": self.second_chance,
            "answer_arithmetic": self.arithmetic,
            "answer_two_hops": self.two_hops,
            "answer_press": self.press,
            "answer_press_lost": self.press_lost,
            "answer_early_release": self.early_release,
            "default_model": self.model,
        }


PRESETS: dict[str, AnswerConfig] = {
    c.name: c
    for c in [
        # Before issue 18: whole chunks, the first prompt, a reply without [n] withheld.
        AnswerConfig(
            "baseline",
            evidence="chunks",
            prompt="v1",
            citations="required",
            second_chance=False,
            arithmetic=False,
        ),
        # The product's defaults.
        AnswerConfig("default"),
        # Before issue 32: no second chance (the attribution of that day is not kept).
        AnswerConfig(
            "before-32",
            second_chance=False,
            arithmetic=False,
            two_hops=False,
            press=False,
            press_lost=False,
        ),
        # The default without the second chance's hop (hop.py): its second chance reads
        # wider windows and a second search's, for the question as asked.
        AnswerConfig("one-hop", two_hops=False),
        # The default, pressing a second chance after a reply that lost its value behind
        # a [n] (attribution.lost_value).
        AnswerConfig("press-lost", press_lost=True),
        # The second chance presses for an answer ("I don't know" not offered, the reply
        # judged strictly): measured worse on the dev set's unanswerable questions.
        AnswerConfig("pressed", press=True),
        # Before issue 33's early release: each sentence shown only once it has ended.
        AnswerConfig("sentences", early_release=False),
        # Ablations: one change at a time from the baseline.
        AnswerConfig("chunks-v2", evidence="chunks", second_chance=False, arithmetic=False),
        AnswerConfig(
            "windows-v1", prompt="v1", citations="required", second_chance=False, arithmetic=False
        ),
        AnswerConfig(
            "windows-v2-required", citations="required", second_chance=False, arithmetic=False
        ),
        AnswerConfig(
            "default-top6", top_k=6, evidence_tokens=320, second_chance=False, arithmetic=False
        ),
    ]
}
DEFAULT_CONFIGS = ["baseline", "default"]


def parse_config(text: str, model: str | None = None) -> AnswerConfig:
    """A preset name, or ``name=...,key=value,...`` over the defaults."""
    if "=" not in text:
        if text not in PRESETS:
            raise ValueError(f"unknown answer config {text!r}: choose {', '.join(PRESETS)}")
        cfg = PRESETS[text]
    else:
        values: dict[str, object] = {}
        known = {f.name: f.type for f in fields(AnswerConfig)}
        for part in text.split(","):
            key, _, value = part.partition("=")
            key = key.strip()
            if key not in known:
                raise ValueError(f"answer config key {key!r}: choose {', '.join(known)}")
            if key in ("top_k", "evidence_tokens"):
                values[key] = int(value)
            elif key in FLAGS:
                values[key] = value.strip().lower() in ("1", "true", "yes", "on")
            else:
                values[key] = value.strip()
        base = PRESETS.get(str(values.get("base", "default")), PRESETS["default"])
        cfg = replace(base, **values)
    return replace(cfg, model=model) if model else cfg
