"""A clock the test sets by hand, for code that takes ``clock=`` (a ``time.time``-like callable)."""


class ManualClock:
    def __init__(self, now: float = 0.0):
        self.now = now

    def __call__(self) -> float:
        return self.now
