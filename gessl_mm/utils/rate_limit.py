"""A counter that lets a repeated warning through at its 1st, 2nd, 4th, 8th, ... time."""


class DoublingRateLimit:
    """Count the occurrences of an event; report at the powers of two.

    A warning that may fire at every iteration stays visible without flooding the log.

    Attributes:
        count: the occurrences so far.
    """

    def __init__(self) -> None:
        self.count = 0

    def record(self) -> bool:
        """Count one occurrence; whether this one should be reported."""
        self.count += 1
        return not self.count & (self.count - 1)
