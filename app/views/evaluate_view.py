"""Evaluate: pick finished runs (and the random-init baseline), protocols with their
parameters and the evaluation data, press Evaluate; an engine process
(``python main.py eval ...``, see ``app.jobs.eval_job``) does the work while this view shows its
progress and fills the comparison table and the plots as results land in the store.

Plots: few-shot accuracy against labels per class, layer-wise probes by stage, the 2-D map
of the test features (image of the hovered point in an inset), nearest neighbours side
by side, and audio-visual runs' sound localisation maps over their frames; each can be saved as PNG and SVG, the table as CSV, Markdown or LaTeX."""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.jobs.eval_job import EvalJob
from app.jobs.store_poller import gui_store
from app.plots.embedding_map import EmbeddingMap
from app.plots.fewshot_plot import FewShotPlot
from app.plots.layerwise_plot import LayerwisePlot
from app.plots.plot_export import ask_and_save
from app.theme import restyle
from app.views.eval_setup import EvalSetup
from app.widgets.form_and_view import form_and_view, vertical_scroll
from app.widgets.localisation_grid import LocalisationGrid
from app.widgets.neighbour_grid import NeighbourGrid
from app.widgets.results_table import ResultsTable
from engine.params import ParamError
from engine.store.database import StoreError
from engine.store.run_record import Run

POLL_MS = 500
FIGURES = (("fewshot", "Few-shot"), ("layerwise", "Layer-wise"), ("embedding", "2-D map"),
           ("retrieval", "Neighbours"), ("localisation", "Sound maps"))


class EvaluateView(QWidget):
    def __init__(self, home: Path, parent=None):
        super().__init__(parent)
        self.home = Path(home)
        self.store = gui_store(self.home)
        self.job: EvalJob | None = None
        self.started_at = 0.0
        self.last_duration: float | None = None
        self.extra_runs: list[str] = []   # baselines the jobs added, shown beside the checked runs
        self.last_eval_id = -1

        self.setup = EvalSetup()
        self.setup.changed.connect(self.refresh_results)
        scroll = vertical_scroll(self.setup, 340)
        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.setObjectName("evaluate")
        self.evaluate_button.setDefault(True)
        self.evaluate_button.clicked.connect(self.evaluate)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("eval_cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setObjectName("eval_progress")
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.message = QLabel("Check runs and protocols, then Evaluate. The work runs in a separate "
                              "engine process; results are stored with their parameters.")
        self.message.setObjectName("eval_message")
        self.message.setWordWrap(True)
        self._set_message(self.message.text(), error=False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.evaluate_button, 1)
        buttons.addWidget(self.cancel_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(scroll, 1)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.progress)
        left_layout.addWidget(self.message)

        self.table = ResultsTable(self.home)
        self.fewshot = FewShotPlot()
        self.layerwise = LayerwisePlot()
        self.embedding = EmbeddingMap(self.home)
        self.neighbours = NeighbourGrid(self.home)
        self.sound_maps = LocalisationGrid(self.home)
        self.figures = {"fewshot": self.fewshot, "layerwise": self.layerwise, "embedding": self.embedding,
                        "retrieval": self.neighbours, "localisation": self.sound_maps}
        self.plots = QTabWidget()
        self.plots.setObjectName("eval_plots")
        for key, title in FIGURES:
            self.plots.addTab(self.figures[key], title)
        self.save_button = QPushButton("Save figure…")
        self.save_button.setObjectName("save_figure")
        self.save_button.setToolTip("Save the figure shown as PNG and SVG")
        self.save_button.clicked.connect(self.ask_save_figure)
        self.plots.setCornerWidget(self.save_button, Qt.TopRightCorner)
        right = QSplitter(Qt.Vertical)
        right.addWidget(self.table)
        right.addWidget(self.plots)
        right.setSizes([170, 590])
        QVBoxLayout(self).addWidget(form_and_view(left, right, (420, 860)))

        self.timer = QTimer(self, interval=POLL_MS)
        self.timer.timeout.connect(self._poll)
        self.refresh_runs()

    # --- runs and plugins ----------------------------------------------------------------------
    def plugins_loaded(self) -> None:
        from engine import registry

        self.setup.set_datasets(registry.entries("dataset"))

    def refresh_runs(self) -> None:
        self.setup.set_runs(self.store.list_runs())

    def showEvent(self, event):
        super().showEvent(event)
        if self.job is None:
            self.refresh_runs()

    def shown_runs(self) -> list[str]:
        checked = self.setup.checked_runs()
        return checked + [r for r in self.extra_runs if r not in checked]

    # --- the job -------------------------------------------------------------------------------
    def evaluate(self) -> bool:
        """Start the evaluation the panel describes; False (with the reason shown) if it cannot."""
        if self.job is not None:
            return False
        try:
            request = self.setup.request()
        except ParamError as e:
            self._set_message(f"Cannot evaluate: {e}", error=True)
            return False
        self.job = EvalJob(self.home, request, self.setup.expected_jobs(), self)
        self.job.progress.connect(self._progress)
        self.job.result.connect(self._result)
        self.job.finished.connect(self._finished)
        self.started_at = time.monotonic()
        self.evaluate_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self.job.start()
        self.timer.start()
        return True

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def running(self) -> bool:
        return self.job is not None and self.job.running()

    def _progress(self, fraction: float, text: str) -> None:
        self.progress.setValue(int(1000 * fraction))
        self._set_message(text, error=False)

    def _result(self, run_id: str, _protocol: str) -> None:
        if run_id not in self.setup.runs:  # the random baseline, created by the job
            self.refresh_runs()
        if run_id not in self.setup.checked_runs() and run_id not in self.extra_runs:
            self.extra_runs.append(run_id)
        self.refresh_results()

    def _finished(self, ok: bool, message: str) -> None:
        self.last_duration = time.monotonic() - self.started_at
        job, self.job = self.job, None
        self.timer.stop()
        self.evaluate_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if ok:
            self.progress.setValue(1000)
            self._set_message(f"{message} in {self.last_duration:.1f} s.", error=False)
        else:
            self._set_message(f"Evaluation failed: {message}" if message != "cancelled" else "Cancelled.",
                              error=message != "cancelled")
        self.refresh_runs()
        self.refresh_results()
        if job is not None:
            job.deleteLater()

    def _set_message(self, text: str, error: bool) -> None:
        self.message.setText(text)
        restyle(self.message, "role", "error" if error else "muted")

    # --- results -------------------------------------------------------------------------------
    def _poll(self) -> None:
        newest = self.store.conn.execute("SELECT COALESCE(MAX(id), 0) FROM evals").fetchone()[0]
        if newest != self.last_eval_id:
            self.refresh_results()

    def latest_evals(self, run_ids: list[str]) -> dict[str, dict[str, dict]]:
        """{run id: {protocol: its most recent eval row}}."""
        latest: dict[str, dict[str, dict]] = {}
        for rid in run_ids:
            latest[rid] = {}
            for ev in self.store.evals(rid):  # in id order: the last one wins
                latest[rid][ev["protocol"]] = ev
        return latest

    def refresh_results(self) -> None:
        self.last_eval_id = self.store.conn.execute("SELECT COALESCE(MAX(id), 0) FROM evals").fetchone()[0]
        runs = []
        for rid in self.shown_runs():
            try:
                runs.append(self.store.get_run(rid))
            except StoreError:  # deleted meanwhile
                self.extra_runs = [r for r in self.extra_runs if r != rid]
        ids = [r.id for r in runs]
        self.table.refresh(ids)
        latest = self.latest_evals(ids)

        def series(protocol):
            return [(self._label(run, latest[run.id][protocol]), i, latest[run.id][protocol])
                    for i, run in enumerate(runs) if protocol in latest[run.id]]

        self.fewshot.set_series([(name, i, ev["results"]) for name, i, ev in series("fewshot")])
        self.layerwise.set_series([(name, i, ev["results"]) for name, i, ev in series("layerwise")])
        self.embedding.set_maps([(name, ev) for name, _, ev in series("embedding")])
        self.neighbours.set_retrievals([(name, ev) for name, _, ev in series("retrieval")])
        self.sound_maps.set_maps([(name, ev) for name, _, ev in series("localisation")])

    @staticmethod
    def _label(run: Run, evaluation: dict) -> str:
        """The run's name, and the evaluation dataset when it is not the run's own."""
        own = run.config["data"]["id"]
        return run.name if evaluation["dataset"] == own else f"{run.name} [{evaluation['dataset']}]"

    # --- figures ---------------------------------------------------------------------------------
    def current_figure(self):
        return self.plots.currentWidget()

    def ask_save_figure(self) -> None:
        key = next(k for k, w in self.figures.items() if w is self.current_figure())
        try:
            ask_and_save(self, self.current_figure(), f"{key}.png", lambda fig, path: fig.save(path))
        except OSError as e:
            QMessageBox.warning(self, "Could not save the figure", str(e))

    def shutdown(self) -> None:
        """End a running evaluation process (none is left behind) and close the store."""
        self.timer.stop()
        if self.job is not None:
            self.job.finished.disconnect()  # the view is going away: nothing to update
            self.job.cancel()
            self.job = None
        self.store.close()
