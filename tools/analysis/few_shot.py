"""Few-shot accuracy of a frozen backbone: ``python tools/analysis/few_shot.py CONFIG CKPT
--way 5 --shot 1 5 --episodes 600``.

Random N-way K-shot episodes are drawn from the labelled dataset ``cfg.feature_eval.query``
(see ``configs/_base_/datasets/digits_ssl.py``); each is scored by the cosine nearest class
mean and by a logistic regression fitted on the support features. Prints mean accuracy
+- 95% confidence interval and writes a JSON file. ``CKPT`` may be ``none``: the randomly
initialised model, a baseline. Works for GeSSL and plain mmpretrain self-supervised configs.

The helpers shared with ``tools/analysis/sigma_measure.py`` are in
:mod:`gessl_mm.evaluation.feature_analysis`.
"""
import argparse
import time

from mmengine.utils import ProgressBar

from gessl_mm.evaluation import few_shot_evaluate
from gessl_mm.evaluation.feature_analysis import (
    add_common_args,
    default_out,
    load_features,
    print_table,
    write_json,
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='N-way K-shot accuracy of frozen features (prototypes, logistic '
        'regression) on cfg.feature_eval.query')
    add_common_args(parser)
    parser.add_argument('--way', type=int, required=True, help='classes per episode (N)')
    parser.add_argument('--shot', type=int, nargs='+', required=True,
                        help='support items per class (K); several values, several runs')
    parser.add_argument('--query', type=int, default=15, help='query items per class')
    parser.add_argument('--episodes', type=int, required=True, help='episodes per setting')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    features, labels, info = load_features(args)
    results, rows = [], []
    for shot in args.shot:
        print(f'{args.way}-way {shot}-shot, {args.query} queries per class, '
              f'{args.episodes} episodes')
        bar = ProgressBar(args.episodes)
        start = time.perf_counter()
        result = few_shot_evaluate(features, labels, args.way, shot, args.query,
                                   args.episodes, args.seed, progress=bar.update)
        print()
        result['time_s'] = time.perf_counter() - start
        results.append(result)
        for name in ('prototype', 'logistic'):
            rows.append((f'{args.way}-way {shot}-shot', name,
                         f"{100 * result[name]['accuracy']:.2f}",
                         f"{100 * result[name]['ci95']:.2f}"))
    print(f"{info['model']} ({args.checkpoint}) on {info['dataset']} split "
          f"{info['split']!r}: {info['num_items']} items, {info['feature_dim']}-d features")
    print_table(('setting', 'classifier', 'accuracy (%)', '95% CI (+-%)'), rows)
    write_json(dict(**info, results=results),
               args.out or default_out(args, f'few_shot_{args.way}way'))


if __name__ == '__main__':
    main()
