"""Wall time of the stages of a GeSSL task."""
import time
from typing import Optional

import torch
from torch import Tensor


class StageTimer:
    """Wall time of consecutive stages (synchronising CUDA so the split is real)."""

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == 'cuda'
        self.last = time.perf_counter()

    def lap(self, now: Optional[float] = None) -> Tensor:
        """The time since the last lap, up to ``now`` (default: the present)."""
        if now is None:
            if self.cuda:
                torch.cuda.synchronize()
            now = time.perf_counter()
        elapsed, self.last = now - self.last, now
        return torch.tensor(elapsed)
