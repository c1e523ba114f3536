"""Save and restore the random number generators with checkpoints."""
import random

import numpy as np
import torch
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Keep Python's, numpy's and torch's random streams across a resume.

    mmengine checkpoints keep the seed, not the streams, so a resumed run draws other
    augmentations and other GeSSL task seeds than the uninterrupted one. This hook stores
    the streams of the process that writes the checkpoint (rank 0) under
    ``checkpoint['random_state']`` and restores them on load, making an interrupted and
    resumed run equal to an uninterrupted one (with ``num_workers=0``; dataloader workers
    are reseeded by mmengine each epoch).
    """
    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = dict(python=random.getstate(), numpy=np.random.get_state(),
                     torch=torch.get_rng_state())
        if torch.cuda.is_available():
            state['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint['random_state'] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('random_state')
        if state is None:
            return
        random.setstate(state['python'])
        np.random.set_state(state['numpy'])
        torch.set_rng_state(state['torch'])
        if 'cuda' in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state['cuda'])
