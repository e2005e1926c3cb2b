"""The states of a sweep (``sweeps.status``). A ``str`` Enum, stored as its value."""
from __future__ import annotations

from enum import Enum


class SweepStatus(str, Enum):
    ACTIVE = "active"          # its queued runs start as slots free up
    PAUSED = "paused"          # its queued runs wait; runs already started go on
    CANCELLED = "cancelled"    # its queued runs were stopped; nothing more starts
    COMPLETED = "completed"    # every run trained (or failed) and was evaluated

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @classmethod
    def parse(cls, value: str) -> SweepStatus:
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"unknown sweep status {value!r}; one of {', '.join(s.value for s in cls)}") from None
