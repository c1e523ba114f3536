# The CPU-scale CIFAR-10 protocol: the paper's CIFAR-10 pretraining (Table 1, §6.2) shrunk to
# 2 CPU cores. Same images, augmentations (SimCLR's at 32 px) and evaluation (5-NN, linear
# probe on frozen features) as ./cifar10_ssl.py, but:
#   - 10,000 of the 50,000 training images (a fixed, class-balanced subset: `num_images`);
#   - batch 32 (= 2 GeSSL tasks of 16), 2 views per image (the paper: 5 for GeSSL);
#   - evaluated after every epoch (5-NN and a logistic-regression probe), bank = the 10,000
#     pretraining images, query = the 10,000 test images.
# With tools/analysis/study.py --split val: pretraining and bank on 10,000 of `train`, query
# = `val` (5,000 training images held out, LocalCIFAR10). Network and epochs: the model base
# (quarter-width ResNet-18) and the schedule (10 epochs) of the configs using this file.
_base_ = './cifar10_ssl.py'

num_images = 10000
train_dataloader = dict(
    batch_size=32,
    # No worker processes: the images are decoded once into memory, the 2 views'
    # augmentation of a batch is ~13% of a plain SimCLR step on 2 shared cores and a worker
    # gave no consistent gain there (docs/benchmarks.md, "CIFAR-10: the input pipeline");
    # RandomStateHook's exact resume needs num_workers=0.
    num_workers=0,
    persistent_workers=False,
    dataset=dict(split='trainval', num_images=num_images))

eval_pipeline = [dict(type='PackInputs')]
feature_eval = dict(
    bank=dict(type='LocalCIFAR10', data_root='data/cifar10', split='trainval',
              num_images=num_images, pipeline=eval_pipeline),
    query=dict(type='LocalCIFAR10', data_root='data/cifar10', split='test',
               pipeline=eval_pipeline))
custom_hooks = [
    dict(type='FeatureEvalHook', k=5, interval=1, linear_probe=True, **feature_eval),
    dict(type='RandomStateHook'),  # exact resume: random streams saved with checkpoints
]
