"""Multi-task self-supervised visual learning (Doersch & Zisserman, 2017): several pretext
tasks share one backbone and their losses are summed."""
from __future__ import annotations

import torch

from engine.api import MethodPlugin, Param, ParamError, create_method, get_entry, register_method


def weighted_sum(losses: list[torch.Tensor], weights: list[float]) -> torch.Tensor:
    """The multi-task objective: sum_i w_i * L_i over the tasks' scalar losses."""
    return sum(w * loss for w, loss in zip(weights, losses))


@register_method
class MultiTask(MethodPlugin):
    id = "multitask"
    title = "Multi-task (several pretext tasks)"
    summary = ("Two or more registered pretext methods train one shared backbone at the same time; "
               "their losses are added with weights and each keeps its own heads and metric. "
               "Combining complementary tasks gave better features than any single one in the paper.")
    citation = "Doersch & Zisserman, 2017 (ICCV)"
    accuracy_key = "rotation_acc"   # the first task's; an instance with other tasks sets its own
    params = [
        # rotation + inpainting: the pair whose metrics rose fastest in 100 steps on 16-px shapes
        # (a global and a dense task; rotation + jigsaw barely moved in the same budget)
        Param("tasks", "list", "rotation,inpainting", "ids of the methods to combine (their default "
              "parameters; the first one's metric is the headline)"),
        Param("weights", "list", "1", "loss weight of each task, in the same order (a single value applies to all)"),
    ]

    @classmethod
    def required_capabilities(cls, params):
        """What every task needs of the shared backbone (each with its default parameters).
        ``params["tasks"]`` may still be the schema's raw default (a comma-separated string)."""
        tasks_param = next(q for q in cls.params if q.name == "tasks")
        needs = frozenset()
        for task in tasks_param.parse(params.get("tasks", tasks_param.default)):
            try:
                entry = get_entry("method", task)
            except ParamError as e:
                raise ParamError(f"method {cls.id}: tasks: {e}") from None
            if entry.cls is not cls:
                needs |= entry.cls.required_capabilities({q.name: q.default for q in entry.schema})
        return needs

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        tasks, weights = list(p["tasks"]), self._weights(p["weights"], len(p["tasks"]))
        if len(tasks) < 2 or len(set(tasks)) != len(tasks):
            raise ParamError("multitask needs at least two different tasks")
        for task in tasks:
            cls = get_entry("method", task).cls
            if task == self.id or cls.needs_labels:
                raise ParamError(f"multitask cannot include {task!r} (only self-supervised methods)")
        self.tasks, self.weights = tasks, weights
        self.subs = torch.nn.ModuleDict({t: create_method(t, backbone, None, image_size, num_classes)
                                         for t in tasks})
        self.accuracy_key = self.subs[tasks[0]].accuracy_key
        self._share_generator()

    def _share_generator(self):
        """All tasks draw from this method's generator, so a checkpoint's one saved generator
        state resumes every task's augmentation stream exactly."""
        for sub in self.subs.values():
            sub.gen = self.gen

    @staticmethod
    def _weights(values, count):
        try:
            weights = [float(v) for v in values]
        except ValueError:
            raise ParamError(f"weights must be numbers, got {', '.join(values)}") from None
        if len(weights) == 1:
            weights = weights * count
        if len(weights) != count:
            raise ParamError(f"weights lists {len(weights)} values for {count} tasks")
        return weights

    def set_seed(self, seed):
        super().set_seed(seed)
        self._share_generator()

    def training_step(self, x, y=None):
        losses, metrics = [], {}
        for task, sub in self.subs.items():
            out = sub.training_step(x, y)
            losses.append(out.pop("loss"))
            metrics[f"{task}_loss"] = losses[-1].item()
            for key, value in out.items():
                metrics[f"{task}/{key}" if key in metrics else key] = value
        return {"loss": weighted_sum(losses, self.weights), **metrics}

    def on_step_end(self, progress):
        for sub in self.subs.values():
            sub.on_step_end(progress)

    @torch.no_grad()
    def input_preview(self, x):
        return {f"{task}: {name}": img for task, sub in self.subs.items()
                for name, img in sub.input_preview(x).items()}
