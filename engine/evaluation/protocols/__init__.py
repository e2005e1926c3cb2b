"""Evaluation protocols on a run's frozen (or fine-tuned) backbone (DESIGN.md, "Evaluation
protocols"). One module per protocol; each defines one class with the plugin attributes
``id, title, summary, citation, params`` (a list of ``engine.params.Param``) and

- ``run(ctx, p) -> dict``: the results, JSON-serialisable (``ctx`` is an
  ``engine.protocols.context.EvalContext``, ``p`` the resolved parameters);
- ``headline(results) -> {column: value}``: the figures shown in the comparison table,
  each a fraction in [0, 1] or a ``[mean, std]`` pair of fractions.

Importing this package does not import torch or scikit-learn (protocol modules import them
inside ``run``), so the GUI can build its forms from the schemas before torch is loaded.
"""
from __future__ import annotations

from engine.evaluation.protocols import (
    audio_probe,
    embedding,
    fewshot,
    finetune,
    knn,
    layerwise,
    linear,
    localisation,
    retrieval,
    svm,
)
from engine.evaluation.protocols.param_lists import check_number_lists
from engine.params import ParamError, resolve

PROTOCOLS = {cls.id: cls for cls in (knn.KNN, linear.Linear, svm.SVM, fewshot.FewShot, layerwise.LayerWise,
                                     finetune.FineTune, embedding.Embedding, retrieval.Retrieval,
                                     audio_probe.AudioProbe, localisation.Localisation)}

# ``--protocol all``: every protocol of a backbone; the audio-visual ones are asked for by name
FOR_ALL = tuple(pid for pid, cls in PROTOCOLS.items() if not getattr(cls, "audio_visual_only", False))


def get(protocol_id: str):
    """The protocol class with this id, or ParamError naming the known ones."""
    try:
        return PROTOCOLS[protocol_id]
    except KeyError:
        raise ParamError(f"unknown protocol {protocol_id!r} (known: {', '.join(PROTOCOLS)})") from None


def resolve_params(protocol_id: str, values: dict | None) -> dict:
    """The protocol's defaults overlaid with ``values`` (strings from the CLI or typed values)."""
    schema = get(protocol_id).params
    resolved = resolve(schema, values, owner=f"protocol {protocol_id}")
    try:
        check_number_lists(schema, resolved)
    except ParamError as e:
        raise ParamError(f"protocol {protocol_id}: {e}") from None
    return resolved


def describe(protocol_id: str) -> dict:
    cls = get(protocol_id)
    return {"id": cls.id, "title": cls.title, "summary": cls.summary, "citation": cls.citation,
            "params": [p.to_json() for p in cls.params]}

