"""Run a study: settings x seeds of pretraining, feature accuracy per epoch, one table.

``python tools/analysis/study.py SPEC [--seeds 0 1 2] [--epochs N] [--split val|test]
[--only NAME ...] [--jobs J] [--threads T] [--work-dir DIR] [--cfg-options k=v ...]``

``SPEC`` is a Python file with ``runs = [dict(name=..., config=..., options={...}), ...]``
(see ``tools/analysis/studies/digits/``; it may import the modules beside it relatively,
``from .settings import X``): each run is a config plus overrides in the dotted
form of ``--cfg-options`` (values are Python objects, so dicts and lists are fine). Every
(run, seed) pretrains with ``tools/train.py`` in its own process and work dir; the config's
``FeatureEvalHook`` records 5-NN and linear-probe accuracy after each epoch against training
wall time. A (run, seed) whose ``feature_eval.json`` is complete is not run again, and one
that stopped part-way (the machine went away, the session ended) resumes from its last
epoch's checkpoint (``tools/train.py --resume``; its curve and training time continue), so
a study can be extended or resumed at any point. A part-way run is resumed only with the
setting it started with (``setting.py`` in its folder); another one is refused, and so is
a finished run whose setting is no longer the spec's (its results would be reported as the
spec's run); such a run outside ``--only`` is left out of the table, with a line naming it.

``--split val`` (the default, for choosing settings) pretrains on the dataset's ``train``
split and evaluates on ``val`` (bank = ``train``); ``--split test`` (for reporting chosen
settings) pretrains on ``trainval`` and evaluates on ``test`` (bank = ``trainval``): the
split names of ``SklearnDigits`` and ``LocalCIFAR10/100``. A spec for a dataset with other
split names defines ``splits = {'val': dict(pretrain=..., bank=..., query=...), 'test':
...}`` (the keys are the choices of ``--split``). The splits are set on the config's
``train_dataloader.dataset`` and on its ``FeatureEvalHook``'s ``bank`` and ``query``; a
name the dataset does not have stops the study before anything trains. ``--only`` trains a
subset. The table (every run of the spec that has results; mean ± the sample standard
deviation over seeds, n - 1, and the seeds' min-max; one seed: its value alone) is printed
and written to ``DIR/study.md``, the curves to ``DIR/study.json``. With ``--sigma``, each
run's final checkpoint also gets its sigma-measurement
(``tools/analysis/sigma_measure.py``, 5-way 5-shot tasks of the evaluation split, lower is
better), added to the table. Runs named ``<method>_gessl`` and ``<method>_plain`` (and
controls ``<method>_plain-<variant>``) are also compared seed by seed: GeSSL's accuracy
gain at equal epochs, and the training time at which it first reaches the plain twin's
final accuracy, as a fraction of the twin's training time. A last table gives every run's
mean curve per epoch. Runs that carry a ``label`` (and, if the paper reports them,
``paper=dict(linear=..., knn=...)``) also get a table in the shape of the paper's Table 1:
the paper's accuracies beside ours, in %. ``--dry-run`` trains nothing and tabulates what
is there.
"""
import argparse
import difflib
import importlib.util
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from importlib.machinery import ModuleSpec
from statistics import mean, stdev
from typing import Dict, List, Optional, Tuple

from mmengine.config import Config, DictAction

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# What `--split` means, per role: the pretraining set, the k-NN / probe bank, the queries.
DEFAULT_SPLITS = {
    'val': dict(pretrain='train', bank='train', query='val'),
    'test': dict(pretrain='trainval', bank='trainval', query='test'),
}
ROLES = ('pretrain', 'bank', 'query')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Settings x seeds of pretraining, one table')
    parser.add_argument('spec', help='Python file defining `runs`')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--epochs', type=int, default=3)
    parser.add_argument('--split', default='val',
                        help='a key of the spec\'s `splits` (default: val, test)')
    parser.add_argument('--only', nargs='+', help='run only these names of the spec')
    parser.add_argument('--jobs', type=int, default=1, help='runs in parallel')
    parser.add_argument('--threads', type=int,
                        help='torch threads per run (default: CPU count / jobs)')
    parser.add_argument('--work-dir', help='default: work_dirs/study/<spec>_<split>')
    parser.add_argument('--sigma', action='store_true',
                        help='also measure sigma on each final checkpoint')
    parser.add_argument('--dry-run', action='store_true', help='write the configs, train none')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='key=value overrides of every run, after the spec\'s (e.g. a '
                        'pilot on fewer images; give it its own --work-dir: a finished run '
                        'of another setting is refused)')
    return parser.parse_args()


def run_spec(spec: str) -> dict:
    """The namespace of the spec file ``spec``, run as a module of a package made of its
    folder, so that it imports the modules beside it relatively (``from .settings import
    X``) without touching ``sys.path``."""
    folder = osp.dirname(osp.abspath(spec))
    package = '_study_specs_' + re.sub(r'\W', '_', folder)
    if package not in sys.modules:
        module = importlib.util.module_from_spec(ModuleSpec(package, None, is_package=True))
        module.__path__ = [folder]
        sys.modules[package] = module
    stem = re.sub(r'\W', '_', osp.splitext(osp.basename(spec))[0])
    module_spec = importlib.util.spec_from_file_location(f'{package}.{stem}', spec)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return vars(module)


def load_spec(spec: str, only: Optional[List[str]] = None) -> Tuple[List[dict], dict]:
    """The spec's runs (those of ``only``, if given) and its splits (``DEFAULT_SPLITS``
    unless it defines ``splits``). A spec may import modules beside it, relatively."""
    namespace = run_spec(spec)
    runs = namespace['runs']
    splits = namespace.get('splits', DEFAULT_SPLITS)
    for name, roles in splits.items():
        if set(roles) != set(ROLES):
            raise ValueError(f'{spec}: splits[{name!r}] must name the split of each of '
                             f'{ROLES}, got {roles}')
    names = [r['name'] for r in runs]
    if len(set(names)) != len(names):
        raise ValueError(f'{spec}: run names must be unique, got {names}')
    if only:
        unknown = set(only) - set(names)
        if unknown:
            raise ValueError(f'--only {sorted(unknown)}: not in {spec} (runs: {names})')
        runs = [r for r in runs if r['name'] in only]
    return runs, splits


def split_options(cfg: Config, roles: Dict[str, str], config: str) -> Dict[str, str]:
    """Dotted overrides that give each role its split: ``train_dataloader.dataset.split`` and
    the ``bank`` / ``query`` of the config's ``FeatureEvalHook``.

    Raises:
        ValueError: the config has no ``FeatureEvalHook``, or a dataset has no such split
            (for dataset classes that list theirs in ``SPLITS``).
    """
    hooks = [i for i, h in enumerate(cfg.get('custom_hooks') or [])
             if h.get('type') == 'FeatureEvalHook']
    if not hooks:
        raise ValueError(f'{config}: no FeatureEvalHook in custom_hooks, which study.py '
                         'reads the accuracies from')
    keys = dict(pretrain='train_dataloader.dataset', bank=f'custom_hooks.{hooks[0]}.bank',
                query=f'custom_hooks.{hooks[0]}.query')
    datasets = dict(pretrain=cfg.train_dataloader.dataset,
                    bank=cfg.custom_hooks[hooks[0]].bank,
                    query=cfg.custom_hooks[hooks[0]].query)
    from mmpretrain.registry import DATASETS

    import gessl_mm  # noqa: F401  (registers the dataset classes)

    for role, split in roles.items():
        cls = DATASETS.get(datasets[role].get('type'))
        known = getattr(cls, 'SPLITS', None)
        if known is not None and split not in known:
            raise ValueError(f'{config}: {keys[role]} ({datasets[role].type}) has no split '
                             f'{split!r} (its splits: {known}); set `splits` in the spec')
    return {f'{keys[role]}.split': split for role, split in roles.items()}


def build_config(run: dict, seed: int, epochs: int, roles: Dict[str, str], work_dir: str,
                 overrides: Optional[dict] = None) -> Config:
    """The run's config with its overrides, splits, epochs and seed, for ``work_dir``."""
    cfg = Config.fromfile(osp.join(ROOT, run['config']))
    options = {
        **split_options(cfg, roles, run['config']), 'train_cfg.max_epochs': epochs,
        'randomness.seed': seed, 'default_hooks.checkpoint.interval': 1,
        'default_hooks.checkpoint.max_keep_ckpts': 1,
        **run.get('options', {}), **(overrides or {})
    }
    for i, scheduler in enumerate(cfg.get('param_scheduler') or []):
        if scheduler.get('by_epoch', True) and 'T_max' in scheduler:
            options.update({f'param_scheduler.{i}.T_max': epochs,
                            f'param_scheduler.{i}.end': epochs})
    cfg.merge_from_dict(options)
    cfg.work_dir = work_dir
    return cfg


def setting_changes(work_dir: str, cfg: Config) -> List[str]:
    """The lines in which ``cfg`` differs from the setting ``work_dir``'s run started with
    (its ``setting.py``; none if it has none). Where the folder lies is not a change."""
    setting = osp.join(work_dir, 'setting.py')
    if not osp.exists(setting):
        return []
    with open(setting) as f:
        started = f.read().splitlines()
    return [line.strip() for line in difflib.unified_diff(
        started, cfg.pretty_text.splitlines(), lineterm='', n=0)
        if line[:1] in '+-' and line[:3] not in ('+++', '---')
        and not line[1:].startswith('work_dir = ')]


def refuse_another_setting(work_dir: str, cfg: Config, name: str, finished: bool) -> None:
    """Stop if ``work_dir`` holds a run of ``name`` that started with another setting than
    ``cfg``: a finished one would be reported as this setting, a part-way one resumed as it."""
    changed = setting_changes(work_dir, cfg)
    if not changed or not (finished or osp.exists(osp.join(work_dir, 'last_checkpoint'))):
        return
    what = (f'a finished run with another setting would be reported as {name}' if finished
            else 'a run that stopped part-way with another setting would resume with this one')
    raise SystemExit(
        f'{work_dir}: {what} (setting.py vs this call: {"; ".join(changed[:4])}); rerun with '
        'its --epochs and options, rename or remove that folder, or use another --work-dir')


def write_config(cfg: Config, work_dir: str) -> str:
    """Dump ``cfg`` to ``work_dir``: its ``config.py`` and its ``setting.py`` (the runner
    rewrites config.py, adding --resume and the launcher, so the setting is kept beside it)."""
    os.makedirs(work_dir, exist_ok=True)
    with open(osp.join(work_dir, 'setting.py'), 'w') as f:
        f.write(cfg.pretty_text)
    path = osp.join(work_dir, 'config.py')
    cfg.dump(path)
    return path


def records_of(work_dir: str) -> List[dict]:
    path = osp.join(work_dir, 'feature_eval.json')
    if not osp.exists(path):
        return []
    with open(path) as f:
        return json.load(f)


def train(config: str, work_dir: str, threads: int) -> int:
    """Pretrain one (run, seed), resuming from its last checkpoint if it has one."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    resume = osp.exists(osp.join(work_dir, 'last_checkpoint'))
    with open(osp.join(work_dir, 'train.log'), 'a' if resume else 'w') as log:
        return subprocess.call(
            [sys.executable, osp.join(ROOT, 'tools', 'train.py'), config, '--work-dir',
             work_dir] + (['--resume'] if resume else []),
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)


def measure_sigma(config: str, work_dir: str, epochs: int, query_split: str,
                  threads: int) -> int:
    """sigma of the run's final checkpoint into ``work_dir/sigma.json`` (kept if there)."""
    out = osp.join(work_dir, 'sigma.json')
    checkpoint = osp.join(work_dir, f'epoch_{epochs}.pth')
    if osp.exists(out) or not osp.exists(checkpoint):
        return 0
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    with open(osp.join(work_dir, 'sigma.log'), 'w') as log:
        return subprocess.call(
            [sys.executable, osp.join(ROOT, 'tools', 'analysis', 'sigma_measure.py'), config,
             checkpoint, '--split', query_split, '--out',
             out, '--device', 'cpu'], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)


def sigma_of(work_dir: str) -> Optional[float]:
    path = osp.join(work_dir, 'sigma.json')
    if not osp.exists(path):
        return None
    with open(path) as f:
        return json.load(f)['result']['mean']


def final_records(seeds: Dict[int, List[dict]], epochs: int) -> List[dict]:
    """The last record of each seed that finished ``epochs``."""
    return [recs[-1] for recs in seeds.values() if recs and recs[-1]['epoch'] == epochs]


def mean_sd(values: List[float], fmt: str = '.4f', unit: str = '',
            signed: bool = False) -> str:
    """``mean ± sd`` of ``values``: the sample standard deviation (n - 1; the seeds are a
    sample of the method's runs), so a spread is not understated at 2-3 seeds; a single
    value is shown alone: it has no spread."""
    shown = f'{mean(values):{"+" if signed else ""}{fmt}}{unit}'
    return shown if len(values) == 1 else f'{shown} ± {stdev(values):{fmt}}'


def summarise(runs: List[dict], results: Dict[str, Dict[int, List[dict]]], epochs: int,
              split: str, sigmas: Optional[Dict[str, List[float]]] = None) -> str:
    header = ('setting', 'seeds', 'epochs', 'train s', f'5-NN ({split})',
              f'linear ({split})', '5-NN min-max', 'linear min-max')
    if sigmas is not None:
        header += ('sigma',)
    rows = [header]
    for run in runs:
        finals = final_records(results[run['name']], epochs)
        if not finals:
            continue
        knn = [r['knn_acc'] for r in finals]
        lin = [r['linear_acc'] for r in finals]
        row = (run['name'], str(len(finals)), str(epochs),
               f"{mean(r['train_time'] for r in finals):.0f}",
               mean_sd(knn), mean_sd(lin),
               f'{min(knn):.4f}-{max(knn):.4f}', f'{min(lin):.4f}-{max(lin):.4f}')
        if sigmas is not None:
            values = sigmas.get(run['name']) or []
            row += (mean_sd(values, '.3f') if values else '-', )
        rows.append(row)
    return markdown_table(rows)


def markdown_table(rows: List[Tuple[str, ...]]) -> str:
    """``rows`` (the header first) as a Markdown table."""
    lines = ['| ' + ' | '.join(r) + ' |' for r in rows]
    lines.insert(1, '|' + '---|' * len(rows[0]))
    return '\n'.join(lines)


def curves(runs: List[dict], results: Dict[str, Dict[int, List[dict]]], epochs: int) -> str:
    """Per epoch, the mean over the finished seeds: ``5-NN / linear (training time)``."""
    rows = [('setting', 'seeds') + tuple(f'epoch {e}' for e in range(epochs + 1))]
    for run in runs:
        finished = [recs for recs in results[run['name']].values()
                    if len(recs) == epochs + 1 and recs[-1]['epoch'] == epochs]
        if not finished:
            continue
        cells = []
        for epoch in range(epochs + 1):
            at = [recs[epoch] for recs in finished]
            cells.append(f"{mean(r['knn_acc'] for r in at):.3f} / "
                         f"{mean(r['linear_acc'] for r in at):.3f} "
                         f"({mean(r['train_time'] for r in at):.0f} s)")
        rows.append((run['name'], str(len(finished)), *cells))
    if len(rows) == 1:
        return ''
    return markdown_table(rows)


def pairs_of(runs: List[dict]) -> List[Tuple[str, str]]:
    """``(plain, gessl)`` run names: ``<method>_gessl`` with ``<method>_plain`` and with
    each control ``<method>_plain-<variant>`` (e.g. the twin with GeSSL's clipping)."""
    names = {r['name'] for r in runs}
    pairs = []
    for name in sorted(names):
        method, sep, variant = name.partition('_plain')
        if sep and (not variant or variant.startswith('-')) and f'{method}_gessl' in names:
            pairs.append((name, f'{method}_gessl'))
    return pairs


def time_to_reach(records: List[dict], key: str, target: float) -> Optional[float]:
    """The training time of the first evaluation at or above ``target`` (None: never)."""
    return next((r['train_time'] for r in records if r[key] >= target), None)


def compare_pairs(runs: List[dict], results: Dict[str, Dict[int, List[dict]]],
                  epochs: int) -> str:
    """GeSSL against its plain twin, seed by seed (seeds where both finished): the accuracy
    gain at equal epochs, and the time GeSSL first reaches the twin's final accuracy as a
    fraction of the twin's training time ("-": it never does)."""
    rows = [('GeSSL vs plain', 'seeds', '5-NN gain', 'linear gain', 'time to plain 5-NN',
             'time to plain linear', 'train time')]
    for plain, gessl in pairs_of(runs):
        seeds = [s for s in results[plain] if len(results[plain][s]) > epochs
                 and results[plain][s][-1]['epoch'] == epochs and results[gessl].get(s)
                 and results[gessl][s][-1]['epoch'] == epochs]
        if not seeds:
            continue
        cells = []
        for key in ('knn_acc', 'linear_acc'):
            gains = [results[gessl][s][-1][key] - results[plain][s][-1][key] for s in seeds]
            cells.append(mean_sd([100 * g for g in gains], '.2f', signed=True))
        for key in ('knn_acc', 'linear_acc'):
            ratios = [time_to_reach(results[gessl][s], key, results[plain][s][-1][key])
                      for s in seeds]
            reached = [t / results[plain][s][-1]['train_time']
                       for t, s in zip(ratios, seeds) if t is not None]
            cells.append(f'{mean_sd(reached, ".2f", "x")} ({len(reached)}/{len(seeds)})'
                         if reached else '-')
        pace = [results[gessl][s][-1]['train_time'] / results[plain][s][-1]['train_time']
                for s in seeds]
        cells.append(mean_sd(pace, '.2f', 'x'))
        method, _, variant = plain.partition('_plain')
        rows.append((f'{method} (plain{variant})' if variant else method, str(len(seeds)),
                     *cells))
    if len(rows) == 1:
        return ''
    return markdown_table(rows)


def paper_table(runs: List[dict], results: Dict[str, Dict[int, List[dict]]],
                epochs: int) -> str:
    """The runs with a ``label``, in the shape of the paper's Table 1: its accuracies
    (``paper=dict(linear=..., knn=...)``, strings as printed there; "-": not reported)
    beside ours in %, mean ± sd over the finished seeds."""
    rows = [('method', 'paper: linear', 'paper: 5-NN', 'ours: linear', 'ours: 5-NN', 'seeds')]
    for run in runs:
        finals = final_records(results[run['name']], epochs)
        if 'label' not in run or not finals:
            continue
        paper = run.get('paper', {})
        ours = [[100 * r[key] for r in finals] for key in ('linear_acc', 'knn_acc')]
        rows.append((run['label'], paper.get('linear', '-'), paper.get('knn', '-'),
                     *(mean_sd(v, '.2f') for v in ours), str(len(finals))))
    if len(rows) == 1:
        return ''
    return markdown_table(rows)


def main() -> None:
    args = parse_args()
    runs, splits = load_spec(args.spec, args.only)
    if args.split not in splits:
        raise SystemExit(f'--split {args.split}: not a split of {args.spec} '
                         f'(choices: {", ".join(splits)})')
    spec_name = osp.splitext(osp.basename(args.spec))[0]
    root = args.work_dir or osp.join(ROOT, 'work_dirs', 'study', f'{spec_name}_{args.split}')
    threads = args.threads or max(1, (os.cpu_count() or 1) // args.jobs)

    # The table covers every run of the spec trained so far, not only this call's; one
    # that ran with another setting than the spec's now is left out of it, not misnamed.
    selected = {run['name'] for run in runs}
    runs, _ = load_spec(args.spec)
    jobs, left_out = [], set()
    for run in runs:
        for seed in args.seeds:
            work_dir = osp.join(root, run['name'], f'seed{seed}')
            recs = records_of(work_dir)
            if run['name'] not in selected and not recs:
                continue
            cfg = build_config(run, seed, args.epochs, splits[args.split], work_dir,
                               args.cfg_options)
            if run['name'] not in selected:
                changed = setting_changes(work_dir, cfg)
                if changed:
                    left_out.add(work_dir)
                    print(f'{work_dir}: left out of the table, it ran with another setting '
                          f'than {run["name"]}\'s ({"; ".join(changed[:4])})', flush=True)
                continue
            finished = bool(recs) and recs[-1]['epoch'] == args.epochs
            refuse_another_setting(work_dir, cfg, run['name'], finished)
            if not finished:  # a finished one is done: its setting.py records what ran
                config = write_config(cfg, work_dir)
                if not args.dry_run:
                    jobs.append((run['name'], seed, config, work_dir))

    def execute(job) -> None:
        name, seed, config, work_dir = job
        start = time.perf_counter()
        rc = train(config, work_dir, threads)
        status = 'ok' if rc == 0 else f'FAILED (rc {rc}, see {work_dir}/train.log)'
        print(f'{name} seed {seed}: {status} in {time.perf_counter() - start:.0f} s',
              flush=True)

    print(f'{len(jobs)} runs to train ({args.jobs} at a time, {threads} threads each) '
          f'in {root}', flush=True)
    with ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(execute, jobs))

    def folder(name: str, seed: int) -> str:
        return osp.join(root, name, f'seed{seed}')

    results = {r['name']: {s: [] if folder(r['name'], s) in left_out
                           else records_of(folder(r['name'], s)) for s in args.seeds}
               for r in runs}
    sigmas = None
    if args.sigma:
        for run in runs:
            for seed in args.seeds:
                work_dir = folder(run['name'], seed)
                if work_dir in left_out:
                    continue
                if measure_sigma(osp.join(work_dir, 'config.py'), work_dir, args.epochs,
                                 splits[args.split]['query'], threads * args.jobs):
                    print(f'sigma of {run["name"]} seed {seed} failed: see {work_dir}/sigma.log')
        sigmas = {r['name']: [v for v in (sigma_of(folder(r['name'], s)) for s in args.seeds
                                          if folder(r['name'], s) not in left_out)
                              if v is not None] for r in runs}
    table = ('Mean ± sd over the seeds (the sample sd, n - 1; one seed: its value alone) and '
             'the seeds\' min-max:\n\n' + summarise(runs, results, args.epochs, args.split, sigmas))
    pairs = compare_pairs(runs, results, args.epochs)
    if pairs:
        table += ('\n\nGains in points, times as a fraction of the plain twin\'s training '
                  'time (mean ± sd over seeds; reached in n of the seeds):\n\n' + pairs)
    paper = paper_table(runs, results, args.epochs)
    if paper:
        table += ('\n\nIn the shape of the paper\'s Table 1 (accuracies in %; the paper\'s '
                  'with its 95% intervals, ours mean ± sd over the seeds):\n\n' + paper)
    per_epoch = curves(runs, results, args.epochs)
    if per_epoch:
        table += ('\n\nPer epoch, mean over the seeds: 5-NN / linear (training time):\n\n'
                  + per_epoch)
    print(table)
    with open(osp.join(root, 'study.md'), 'w') as f:
        options = ' '.join(f'{k}={v}' for k, v in args.cfg_options.items())
        f.write(f'`python tools/analysis/study.py {args.spec} --seeds '
                f'{" ".join(map(str, args.seeds))} --epochs {args.epochs} --split '
                f'{args.split}{" --sigma" if args.sigma else ""}'
                f'{" --cfg-options " + options if options else ""}`\n\n{table}\n')
    with open(osp.join(root, 'study.json'), 'w') as f:
        json.dump(dict(runs=runs, epochs=args.epochs, split=args.split, results=results,
                       sigmas=sigmas), f, indent=1)


if __name__ == '__main__':
    main()
