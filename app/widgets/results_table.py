"""The comparison table of the Evaluate view: rows = runs, columns = the protocols' headline
figures in percent (``engine.evaluation.tables.comparison_table``, the table the CLI writes),
each with its difference to random init and that difference's seed noise; a column's value in
bold only where it leads by more than the noise; an export to CSV, Markdown or LaTeX."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.widgets.buttons import push_button
from engine.evaluation.tables import RUN_COLUMNS, comparison_table, write_table

SHOWN_RUN_COLUMNS = ["run", "method", "backbone", "dataset"]
SUFFIX_FORMATS = {".csv": "csv", ".md": "md", ".tex": "tex"}
FILTERS = "CSV (*.csv);;Markdown (*.md);;LaTeX (*.tex)"


def cell_text(value) -> str:
    """A figure (fraction or [mean, std]) as percent: ``72.5`` or ``61.3 ± 2.1``."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return f"{100 * value[0]:.1f} ± {100 * value[1]:.1f}"
    return f"{100 * value:.1f}"


def _margin_tip(margin) -> str:
    if margin is None:
        return "no random-init baseline evaluated (Evaluate with the random baseline)"
    runs, bases = margin.seeds
    verdict = ("ahead of random init by more than two seed spreads" if margin.significant and margin.delta > 0
               else "behind random init by more than two seed spreads" if margin.significant
               else "inside the seed noise: not a win" if margin.noise is not None
               else "one seed: no noise estimate, so not called a win")
    return (f"{margin.text()} percentage points vs random init ({runs} seed(s), {bases} baseline seed(s)); "
            f"{verdict}")


class ResultsTable(QWidget):
    def __init__(self, home: Path, parent=None):
        super().__init__(parent)
        self.home = Path(home)
        self.run_ids: list[str] = []
        self.columns: list[str] = []
        self.rows: list[dict] = []
        self.table = QTableWidget()
        self.table.setObjectName("results_table")
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.empty = QLabel("No results yet: check runs and protocols, then Evaluate.")
        self.empty.setProperty("role", "muted")
        self.empty.setWordWrap(True)
        self.export_button = push_button("Export table…", "export_table", self.ask_export,
                                         "Write the table as CSV, Markdown or LaTeX (booktabs)")
        top = QHBoxLayout()
        title = QLabel("Comparison (top-1 %; few-shot: mean ± std over draws)")
        title.setProperty("role", "title")
        title.setMinimumWidth(120)  # clipped by a narrow splitter rather than widening the window
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)

    def refresh(self, run_ids: list[str]) -> None:
        """Rebuild from the store for these runs (in this order)."""
        self.run_ids = list(run_ids)
        self.columns, self.rows = comparison_table(self.home, self.run_ids) if run_ids else (RUN_COLUMNS, [])
        shown = SHOWN_RUN_COLUMNS + [c for c in self.columns if c not in RUN_COLUMNS]
        figure_columns = shown[len(SHOWN_RUN_COLUMNS):]
        self.table.setColumnCount(len(shown))
        self.table.setHorizontalHeaderLabels(shown)
        self.table.setRowCount(len(self.rows))
        bold = QFont(self.table.font())
        bold.setBold(True)
        for i, row in enumerate(self.rows):
            for j, column in enumerate(shown):
                value = row.get(column)
                if column in SHOWN_RUN_COLUMNS:
                    item = QTableWidgetItem(str(value or ""))
                    item.setToolTip(f"run {row['id']}")
                else:
                    margin = row.get("vs_random", {}).get(column) if value is not None else None
                    item = QTableWidgetItem(cell_text(value) + (f"  ({margin.text()})" if margin else ""))
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                    item.setToolTip(_margin_tip(margin))
                    if column in row.get("best", ()):  # ahead by more than the seed noise
                        item.setFont(bold)
                self.table.setItem(i, j, item)
        has_figures = bool(figure_columns)
        self.empty.setVisible(not has_figures)
        self.export_button.setEnabled(has_figures)

    def figure(self, run_id: str, column: str):
        """The value shown for ``run_id`` in ``column`` (None when empty)."""
        for row in self.rows:
            if row["id"] == run_id:
                return row.get(column)
        return None

    # --- export ----------------------------------------------------------------------------------
    def export(self, path: Path | str) -> str:
        """Write the table to ``path``; the format follows the suffix (.csv, .md, .tex)."""
        path = Path(path)
        fmt = SUFFIX_FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise ValueError(f"the table file must end in {', '.join(SUFFIX_FORMATS)}, not {path.name!r}")
        return write_table(self.home, fmt, path, self.run_ids)

    def ask_export(self) -> None:
        chosen, chosen_filter = QFileDialog.getSaveFileName(self, "Export the comparison table",
                                                            "comparison.csv", FILTERS)
        if not chosen:
            return
        path = Path(chosen)
        if path.suffix.lower() not in SUFFIX_FORMATS:  # the filter picked decides the format
            path = path.with_suffix("." + chosen_filter.split("*.")[1].rstrip(")"))
        try:
            self.export(path)
        except (OSError, ValueError) as e:
            QMessageBox.warning(self, "Could not export the table", str(e))
