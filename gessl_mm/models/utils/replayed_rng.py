"""A fixed random state for every evaluation of a task's inner loss."""
import torch


class ReplayedRNG:
    """Run a block under a fixed random state and restore the global state afterwards."""

    def __init__(self, seed: int, like) -> None:
        tensor = like[0] if isinstance(like, list) else like
        self.devices = [tensor.device] if tensor.is_cuda else []
        self.seed = seed

    def __enter__(self):
        self.fork = torch.random.fork_rng(devices=self.devices)
        self.fork.__enter__()
        # The generators of this task's devices only: torch.manual_seed would also queue
        # seeds for every uninitialised accelerator API, a noticeable cost per pass on CPU.
        torch.default_generator.manual_seed(self.seed)
        for device in self.devices:
            index = torch.cuda.current_device() if device.index is None else device.index
            torch.cuda.default_generators[index].manual_seed(self.seed)

    def __exit__(self, *exc):
        return self.fork.__exit__(*exc)
