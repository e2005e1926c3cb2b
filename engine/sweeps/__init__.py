"""Sweeps: a base configuration plus axes, expanded into queued runs that are trained, evaluated
and plotted as scaling curves (DESIGN.md, "Sweeps and scale-out"; the scaling studies of
Goyal, Mahajan, Gupta & Misra, 2019, "Scaling and Benchmarking Self-Supervised Visual
Representation Learning", ICCV).

``axes`` parses and combines axes, ``spec`` is a sweep's description and its validated
expansion, ``studies`` the lecture's study presets, ``scaling`` the aggregation behind the
scaling plot, ``auto_eval`` the evaluation process the queue starts for each finished run.
Imports neither torch nor Qt.
"""
