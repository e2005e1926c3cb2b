"""A run's tags: stored as one comma-separated text field (``"baseline, sweep-3"``), edited
as a list here so the CLI and the GUI's notes dialog write them the same way."""
from __future__ import annotations


def parse_tags(text: str) -> list[str]:
    """``"a, b,,a "`` -> ``["a", "b"]``: trimmed, empty ones dropped, first occurrence kept."""
    seen: list[str] = []
    for t in (text or "").split(","):
        t = t.strip()
        if t and t not in seen:
            seen.append(t)
    return seen


def format_tags(tags: list[str]) -> str:
    return ", ".join(parse_tags(",".join(tags)))
