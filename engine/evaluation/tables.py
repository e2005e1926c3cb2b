"""The comparison table: one row per run, one column per protocol headline figure (kNN top-1
at each k, linear top-1/top-5, SVM accuracy, k-shot mean +- std, ...), written as CSV,
Markdown or LaTeX. Figures are percentages; for each run, protocol, evaluation dataset and
figure the most recent evaluation wins. A figure measured on another dataset than the run
was pre-trained on gets the dataset in its column name, e.g. ``knn@20 [digits]`` (and the
parameters that differ when it is the same dataset, e.g. ``knn@20 [shapes image_size=64]``).
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from engine.evaluation import protocols
from engine.evaluation.baseline_margin import column_winners, margins
from engine.evaluation.protocols.clip_readout import readout_suffix
from engine.params import ParamError
from engine.store.atomic_file import write_text_atomic
from engine.store.database import Store
from engine.store.run_record import Run

RUN_COLUMNS = ["run", "id", "method", "backbone", "dataset"]
FORMATS = ("csv", "md", "tex")


def _data_suffix(ev: dict, run: Run) -> str:
    """"" when evaluated on the run's own data; else `` [dataset]`` and, for the same dataset
    with other parameters, the parameters that differ: `` [shapes image_size=64]``."""
    own = run.config["data"]
    data = ev["params"].get("data") or {"id": ev["dataset"], "params": own["params"]}
    if data["id"] != own["id"]:
        return f" [{data['id']}]"
    diff = [f"{k}={v}" for k, v in sorted(data["params"].items()) if own["params"].get(k) != v]
    return f" [{data['id']} {' '.join(diff)}]" if diff else ""


def _figure_rows(runs: list[Run], evals: list[dict], keep_empty: bool) -> tuple[list[str], list[dict]]:
    by_run = {r.id: r for r in runs}
    order = {pid: i for i, pid in enumerate(protocols.PROTOCOLS)}
    figures: dict[str, dict] = {rid: {} for rid in by_run}
    seen_columns: dict[str, tuple] = {}
    for ev in evals:  # in id order: later evaluations overwrite earlier ones
        run = by_run.get(ev["run_id"])
        if run is None or ev["protocol"] not in protocols.PROTOCOLS:
            continue
        suffix = _data_suffix(ev, run) + readout_suffix(ev["params"])
        for name, value in protocols.get(ev["protocol"]).headline(ev["results"]).items():
            column = name + suffix
            figures[run.id][column] = value
            seen_columns.setdefault(column, (order[ev["protocol"]], suffix, len(seen_columns)))
    columns = sorted(seen_columns, key=lambda c: seen_columns[c])
    rows = [{"run": run.name, "id": rid, "method": run.method, "backbone": run.backbone,
             "dataset": run.dataset, **figures[rid]}
            for rid, run in by_run.items() if figures[rid] or keep_empty]
    return columns, rows


def comparison_table(home, run_ids: list[str] | None = None) -> tuple[list[str], list[dict]]:
    """(columns, rows): rows are dicts keyed by column; figure values are fractions or
    ``[mean, std]`` pairs. Runs without evaluations are left out unless named.

    Each row also holds ``row["vs_random"]``: column -> ``Margin`` (the difference to random
    init with its seed noise, from every run in the store, engine.evaluation.baseline_margin),
    and ``row["best"]``: the columns in which this row is ahead of the others by more than
    the noise (none when nothing is)."""
    store = Store(home)
    try:
        everyone = store.list_runs()
        runs = [store.get_run(r) for r in run_ids] if run_ids else everyone
        evals = store.evals()
    finally:
        store.close()
    columns, rows = _figure_rows(runs, evals, keep_empty=bool(run_ids))
    all_columns, all_rows = _figure_rows(everyone, evals, keep_empty=False)
    found = margins(everyone, all_rows, all_columns)
    for row in rows:
        row["vs_random"] = {c: found[(row["id"], c)] for c in columns if (row["id"], c) in found}
        row["best"] = set()
    for c in columns:
        for rid in column_winners(rows, c, runs):
            next(r for r in rows if r["id"] == rid)["best"].add(c)
    return RUN_COLUMNS + columns, rows


def _percent(value, pm: str) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return f"{100 * value[0]:.1f}{pm}{100 * value[1]:.1f}"
    return f"{100 * value:.1f}"


def _figure_cell(row: dict, column: str, pm: str, bold: str) -> str:
    """``54.3 (+12.1 ± 0.8 vs random)``; in ``bold`` (a format) where the row is ahead of the
    others by more than the noise."""
    text = _percent(row.get(column), pm)
    margin = row.get("vs_random", {}).get(column)
    if text and margin is not None and row.get(column) is not None:
        text += f" ({margin.text().replace(' ± ', pm)} vs random)"
    return bold.format(text) if text and column in row.get("best", ()) else text


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "_": r"\_", "#": r"\#", "$": r"\$",
        "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _tex(text: str) -> str:
    return "".join(_TEX.get(ch, ch) for ch in text)


def _csv(columns, rows) -> str:
    """Plain numbers (percent); a mean +- std figure becomes two columns, ``X`` and ``X std``."""
    pairs = {c for c in columns for r in rows if isinstance(r.get(c), (list, tuple))}
    vs = {c for c in columns for r in rows if c in r.get("vs_random", {})}
    header = [h for c in columns for h in ([c, f"{c} std"] if c in pairs else [c])
              + ([f"{c} vs random", f"{c} vs random noise"] if c in vs else [])]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for r in rows:
        line = []
        for c in columns:
            v = r.get(c)
            if c in RUN_COLUMNS:
                line.append(v)
            elif c in pairs:
                line += ["", ""] if v is None else [f"{100 * v[0]:.2f}", f"{100 * v[1]:.2f}"]
            else:
                line.append("" if v is None else f"{100 * v:.2f}")
            if c in vs:
                m = r.get("vs_random", {}).get(c)
                line += ["", ""] if m is None else [f"{100 * m.delta:.2f}",
                                                    "" if m.noise is None else f"{100 * m.noise:.2f}"]
        writer.writerow(line)
    return buf.getvalue()


def _one_line(text: str) -> str:
    """A cell on one line: a newline in a run name must not end the table row."""
    return " ".join(str(text).split()) if any(ch in str(text) for ch in "\r\n\t\v\f") else str(text)


def _run_cell(row: dict, column: str) -> str:
    """A run column's cell on one line; the id column holds the short id."""
    value = _one_line(row.get(column, ""))
    return value.rsplit("-", 1)[-1] if column == "id" else value


def render_table(columns: list[str], rows: list[dict], fmt: str) -> str:
    """The table as ``csv``, ``md`` (GitHub Markdown) or ``tex`` (a booktabs tabular)."""
    if fmt not in FORMATS:
        raise ParamError(f"table format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if fmt == "csv":
        return _csv(columns, rows)
    shown = list(columns)  # the id column holds the short id: runs of one name stay apart
    figure_cols = [c for c in shown if c not in RUN_COLUMNS]
    if fmt == "md":
        cells = [[_run_cell(r, c) if c in RUN_COLUMNS else _figure_cell(r, c, " ± ", "**{}**") for c in shown]
                 for r in rows]
        lines = ["| " + " | ".join(shown) + " |",
                 "|" + "|".join("---" if c in RUN_COLUMNS else "---:" for c in shown) + "|"]
        lines += ["| " + " | ".join(_one_line(cell).replace("|", "\\|") for cell in row) + " |" for row in cells]
        return "\n".join(lines) + "\n"
    spec = "l" * (len(shown) - len(figure_cols)) + "r" * len(figure_cols)
    lines = [r"\begin{tabular}{" + spec + "}", r"\toprule", " & ".join(_tex(c) for c in shown) + r" \\", r"\midrule"]
    for r in rows:
        cells = [_tex(_run_cell(r, c)) if c in RUN_COLUMNS else _figure_cell(r, c, r" $\pm$ ", r"\textbf{{{}}}")
                 for c in shown]
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def write_table(home, fmt: str, out: Path | str | None = None, run_ids: list[str] | None = None) -> str:
    """Build and render the comparison table; write it to ``out`` when given. Returns the text."""
    text = render_table(*comparison_table(home, run_ids), fmt)
    if out is not None:
        write_text_atomic(out, text)
    return text
