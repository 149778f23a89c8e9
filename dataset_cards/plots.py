"""PNG plots for cards (matplotlib, Agg backend): distributions as grouped bars, training curves as lines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def value_sort_key(value: Any) -> tuple[int, Any]:
    """Numbers first, in order, then everything else by its text (e.g. ``"(missing)"``)."""
    return (0, value) if isinstance(value, (int, float)) else (1, str(value))


def bar_chart(
    series: Mapping[str, Mapping[Any, int]],
    path: str | Path,
    *,
    title: str,
    xlabel: str,
    ylabel: str = "records",
) -> Path:
    """Grouped bars: one group per x value (sorted), one bar per series (e.g. per config). Returns ``path``."""
    plt = _pyplot()
    xs = sorted({x for counts in series.values() for x in counts}, key=value_sort_key)
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=100)
    width = 0.8 / max(1, len(series))
    for index, (name, counts) in enumerate(series.items()):
        positions = [i + (index - (len(series) - 1) / 2) * width for i in range(len(xs))]
        ax.bar(positions, [counts.get(x, 0) for x in xs], width=width, label=name)
    ax.set_xticks(range(len(xs)))
    ax.set_xticklabels([str(x) for x in xs], rotation=45 if len(xs) > 12 else 0)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if len(series) > 1:
        ax.legend()
    return _save(plt, fig, path)


def line_chart(
    series: Mapping[str, Sequence[tuple[float, float]]],
    path: str | Path,
    *,
    title: str,
    xlabel: str = "step",
    ylabel: str = "",
) -> Path:
    """One line per series of ``(x, y)`` points. Returns ``path``."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=100)
    for name, points in series.items():
        xs, ys = zip(*points) if points else ((), ())
        ax.plot(xs, ys, marker="o" if len(points) < 30 else None, markersize=3, label=name)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if len(series) > 1:
        ax.legend(fontsize="small")
    return _save(plt, fig, path)


def _save(plt: Any, fig: Any, path: str | Path) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(target, format="png")
    plt.close(fig)
    return target
