"""Growing numpy buffers for one curve: x in three units (step, epoch, wall time) and y,
plus its exponential moving average, all appended in O(new points)."""
from __future__ import annotations

import numpy as np

X_MODES = ("step", "epoch", "time")


def ema(values: np.ndarray, weight: float) -> np.ndarray:
    """Debiased exponential moving average, as TensorBoard smooths curves:
    s_i = w s_{i-1} + (1 - w) v_i, divided by 1 - w^(i+1) so the start is not pulled to 0."""
    out = np.empty_like(values)
    acc = 0.0
    for i, v in enumerate(values):
        acc = weight * acc + (1 - weight) * v
        out[i] = acc / (1 - weight ** (i + 1)) if weight > 0 else v
    return out


class SeriesBuffer:
    def __init__(self, capacity: int = 1024):
        self.n = 0
        self.x = {mode: np.empty(capacity) for mode in X_MODES}
        self.y = np.empty(capacity)
        self.smooth = np.empty(capacity)
        self.weight = 0.0
        self._acc = 0.0

    def _grow(self, need: int) -> None:
        cap = len(self.y)
        if need <= cap:
            return
        while cap < need:
            cap *= 2
        for mode in X_MODES:
            self.x[mode] = np.resize(self.x[mode], cap)
        self.y, self.smooth = np.resize(self.y, cap), np.resize(self.smooth, cap)

    def append(self, steps, epochs, times, values) -> None:
        k = len(values)
        if not k:
            return
        self._grow(self.n + k)
        sl = slice(self.n, self.n + k)
        self.x["step"][sl], self.x["epoch"][sl], self.x["time"][sl] = steps, epochs, times
        self.y[sl] = values
        w = self.weight
        for i, v in enumerate(np.asarray(values, dtype=float)):  # continue the running average
            self._acc = w * self._acc + (1 - w) * v
            j = self.n + i
            self.smooth[j] = self._acc / (1 - w ** (j + 1)) if w > 0 else v
        self.n += k

    def set_weight(self, weight: float) -> None:
        self.weight = float(weight)
        if self.n:
            self.smooth[:self.n] = ema(self.y[:self.n], self.weight)
            last = self.smooth[self.n - 1]
            self._acc = last * (1 - self.weight ** self.n) if self.weight > 0 else last

    def xs(self, mode: str) -> np.ndarray:
        return self.x[mode][:self.n]

    def ys(self, smoothed: bool = False) -> np.ndarray:
        return (self.smooth if smoothed else self.y)[:self.n]

    def last_step(self) -> float:
        return self.x["step"][self.n - 1] if self.n else -np.inf
