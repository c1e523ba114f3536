"""The sigma-measurement of generality (Definition 4.2) of a frozen backbone:
``python tools/analysis/sigma_measure.py CONFIG CKPT [--way 5 --shot 5 --tasks 100]``.

Random N-way tasks are drawn from the labelled dataset ``cfg.feature_eval.query``; on each,
the KL divergence from the task-specific optimum (``--optimum onehot``: the ground truth;
``fitted``: a logistic regression fitted on the task's support and query features) to the
model's prototype distribution ``softmax(cos(z, prototypes) / temperature)`` is averaged over
the query items. See :mod:`gessl_mm.evaluation.sigma` for the details. Lower is better.
``CKPT`` may be ``none`` (random init). Writes a JSON file.
"""
import argparse
import time

from mmengine.utils import ProgressBar

from gessl_mm.evaluation import sigma_measure
from gessl_mm.evaluation.feature_analysis import (
    add_common_args,
    default_out,
    load_features,
    print_table,
    write_json,
)
from gessl_mm.evaluation.sigma import OPTIMA


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='sigma-measurement (KL to the task-specific optimum over held-out '
        'N-way tasks) of frozen features on cfg.feature_eval.query')
    add_common_args(parser)
    parser.add_argument('--way', type=int, default=5, help='classes per task (N)')
    parser.add_argument('--shot', type=int, default=5,
                        help='support items per class (they give the prototypes)')
    parser.add_argument('--query', type=int, default=15,
                        help='query items per class (where the KL is measured)')
    parser.add_argument('--tasks', type=int, default=100, help='number of sampled tasks')
    parser.add_argument('--temperature', type=float, default=0.1,
                        help="temperature of the model's prototype softmax")
    parser.add_argument('--optimum', choices=OPTIMA, default='onehot',
                        help='task-specific optimum: the ground truth (onehot) or a logistic '
                        'regression fitted on the whole task (fitted)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    features, labels, info = load_features(args)
    print(f'{args.tasks} tasks, {args.way}-way, {args.shot} support + {args.query} query '
          f'items per class, optimum {args.optimum!r}, temperature {args.temperature}')
    bar = ProgressBar(args.tasks)
    start = time.perf_counter()
    result = sigma_measure(features, labels, args.way, args.shot, args.query, args.tasks,
                           args.seed, args.temperature, args.optimum, progress=bar.update)
    print()
    result['time_s'] = time.perf_counter() - start
    print(f"{info['model']} ({args.checkpoint}) on {info['dataset']} split "
          f"{info['split']!r}: {info['num_items']} items, {info['feature_dim']}-d features")
    print_table(('optimum', 'tasks', 'sigma (sum, nats)', 'mean per task', '95% CI (+-)'),
                [(args.optimum, args.tasks, f"{result['sigma']:.4f}",
                  f"{result['mean']:.4f}", f"{result['ci95']:.4f}")])
    write_json(dict(**info, result=result),
               args.out or default_out(args, f'sigma_{args.optimum}'))


if __name__ == '__main__':
    main()
