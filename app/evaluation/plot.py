"""Draws bench/results/retrieval.png from the report's table: every configuration measured
so far beside the cookbook's published rows, so a reader sees the gaps at a glance."""

from __future__ import annotations

from pathlib import Path


def table_rows(report: str) -> list[tuple[str, float, float, float]]:
    """(name, Pass@5, Pass@10, Pass@20) of each row of the Markdown report."""
    rows = []
    for line in report.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or cells[0] in ("configuration", "---") or cells[0].startswith("-"):
            continue
        try:
            p5, p10, p20 = (float(c) for c in cells[1:4])
        except ValueError:
            continue
        rows.append((cells[0].split(" (")[0], p5, p10, p20))
    return rows


def draw(report_path: Path, image_path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # no display here, and none needed
    import matplotlib.pyplot as plt

    rows = table_rows(report_path.read_text())
    names = [r[0] for r in rows]
    fig_height = 1.2 + 0.42 * len(rows)
    fig, ax = plt.subplots(figsize=(9, fig_height), dpi=110)
    bar = 0.27
    colours = {"Pass@5": "#4c72b0", "Pass@10": "#55a868", "Pass@20": "#c44e52"}
    for i, (label, colour) in enumerate(colours.items()):
        ys = [n + (i - 1) * bar for n in range(len(rows))]
        ax.barh(ys, [r[1 + i] for r in rows], height=bar, color=colour, label=label)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(names, fontsize=8)
    for tick, name in zip(ax.get_yticklabels(), names, strict=True):
        if name.startswith("cookbook"):
            tick.set_fontweight("bold")
    ax.invert_yaxis()
    lowest = min(min(r[1:]) for r in rows) if rows else 0
    ax.set_xlim(max(0, lowest - 5), 100)
    ax.set_xlabel("share of golden chunks retrieved (%)")
    ax.set_title("Retrieval on the contextual-retrieval dataset (dev half) vs the cookbook")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper right", fontsize=8, framealpha=0.9)  # top rows are the short ones
    fig.tight_layout()
    image_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(image_path)
    plt.close(fig)
    return image_path
