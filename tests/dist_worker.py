"""Worker of tests/models/wrappers/test_gessl_distributed_wrapper.py, started by torchrun
(2 processes, gloo).

Each rank trains GeSSL on its own task for 3 outer updates and saves its parameters and
momentum-encoder weights to OUT/rank{r}.pth. Run with one process (WORLD_SIZE unset) it
plays the single-process reference: both tasks per update, half the learning rate.
"""
import os
import sys

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helpers import build_gessl, build_wrapper, make_batch  # noqa: E402
from mmengine.runner import set_random_seed  # noqa: E402

from gessl_mm.models import GeSSLDistributedWrapper  # noqa: E402

TASK = 4


def main(out_dir: str, base: str, fail_rank: int = -1) -> None:
    distributed = 'WORLD_SIZE' in os.environ
    if distributed:
        dist.init_process_group('gloo')
    rank = dist.get_rank() if distributed else 0
    set_random_seed(0)
    model = build_gessl(base, task_size=TASK)
    lr = 0.01 if distributed else 0.005
    # Unclipped: clipping the ranks' mean and the single process's sum differs.
    wrapper = build_wrapper(model, tasks_per_update=1 if distributed else 2,
                            optimizer=dict(type='SGD', lr=lr, momentum=0.9), clip_grad=None)
    runner_model = GeSSLDistributedWrapper(model) if distributed else model
    if rank == fail_rank:  # this rank's loss turns NaN
        loss = model.base.loss
        model.base.loss = lambda *a, **k: {'loss': loss(*a, **k)['loss'] * float('nan')}
    for step in range(3):
        batch = make_batch(batch_size=2 * TASK, seed=step)  # task 0 for rank 0, task 1 for 1
        if distributed:
            part = slice(rank * TASK, (rank + 1) * TASK)
            batch = dict(inputs=[v[part] for v in batch['inputs']],
                         data_samples=batch['data_samples'][part])
        runner_model.train_step(batch, wrapper)
    state = {n: p.detach().clone() for n, p in model.named_parameters()}
    torch.save(state, os.path.join(out_dir, f'rank{rank}.pth' if distributed else 'single.pth'))
    if distributed:
        dist.destroy_process_group()


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2], *map(int, sys.argv[3:]))
