"""Saving figures of the Evaluate view as PNG and SVG: pyqtgraph plots through its
exporters (SVG stays vector), plain widgets (the neighbour grid) through ``QWidget.grab``
and ``QSvgGenerator``."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QFileDialog, QGraphicsView, QWidget

FORMATS = ("png", "svg")


def figure_paths(path: Path | str) -> list[Path]:
    """``plot`` or ``plot.png`` -> [plot.png, plot.svg]."""
    path = Path(path)
    stem = path.with_suffix("") if path.suffix.lower().lstrip(".") in FORMATS else path
    return [stem.with_name(f"{stem.name}.{fmt}") for fmt in FORMATS]


def save_plot(plot_widget, path: Path | str, width: int = 1200) -> list[Path]:
    """A ``pg.PlotWidget`` -> PNG (``width`` pixels wide) and SVG; returns the files."""
    import pyqtgraph.exporters as exporters

    png, svg = figure_paths(path)
    png.parent.mkdir(parents=True, exist_ok=True)
    item = plot_widget.getPlotItem()
    image = exporters.ImageExporter(item)
    image.parameters()["width"] = width
    image.export(str(png))
    try:
        exporters.SVGExporter(item).export(str(svg))
    except ValueError:
        # pyqtgraph 0.14's SVGExporter cannot parse the path syntax newer Qt writes
        # (pyqtgraph issue #3485); Qt's own SVG painter still gives a vector file
        _render_svg(plot_widget, svg)
    return [png, svg]


def save_widget(widget: QWidget, path: Path | str) -> list[Path]:
    """Any widget -> PNG (a screen grab) and SVG (the widget painted into an SVG)."""
    png, svg = figure_paths(path)
    png.parent.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(png))
    _render_svg(widget, svg)
    return [png, svg]


def _render_svg(widget: QWidget, svg: Path) -> None:
    """Paint ``widget`` into an SVG file with ``QSvgGenerator`` (vector where Qt can)."""
    from PySide6.QtSvg import QSvgGenerator

    size = widget.size()
    generator = QSvgGenerator()
    generator.setFileName(str(svg))
    generator.setSize(QSize(size))
    generator.setViewBox(QRect(0, 0, size.width(), size.height()))
    generator.setTitle(widget.objectName() or "figure")
    painter = QPainter(generator)
    if isinstance(widget, QGraphicsView):  # a plot: its scene, drawn as vectors
        widget.render(painter)
    else:
        QWidget.render(widget, painter, QPoint(0, 0))
    painter.end()


def ask_and_save(parent: QWidget, figure, suggested: str, save) -> list[Path]:
    """Ask for a file name and write the PNG and SVG next to each other."""
    chosen, _ = QFileDialog.getSaveFileName(parent, "Save the figure (PNG and SVG)", suggested,
                                            "Images (*.png *.svg)")
    return save(figure, chosen) if chosen else []
