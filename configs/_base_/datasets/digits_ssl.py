# scikit-learn's handwritten digits (shipped with the package, no download), 32x32.
# Pretraining on `trainval` (1,437 images, labels unused); features evaluated by k-NN and a
# linear probe: bank = trainval, query = test (360 images).
dataset_type = 'SklearnDigits'
data_preprocessor = dict(type='SelfSupDataPreprocessor', mean=[77.9] * 3, std=[82.5] * 3,
                         to_rgb=False)

view_pipeline = [
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.4, 1.0), backend='pillow'),
    dict(type='RandomApply',
         transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.,
                          hue=0.)],
         prob=0.8),
]
train_pipeline = [
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
eval_pipeline = [dict(type='PackInputs')]

train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, split='trainval', pipeline=train_pipeline))

# Labelled sets for evaluating frozen features: read by FeatureEvalHook below and by
# tools/test.py, tools/analysis/few_shot.py and tools/analysis/sigma_measure.py.
feature_eval = dict(
    bank=dict(type=dataset_type, split='trainval', pipeline=eval_pipeline),
    query=dict(type=dataset_type, split='test', pipeline=eval_pipeline))
custom_hooks = [
    dict(type='FeatureEvalHook', k=5, interval=1, linear_probe=True, **feature_eval),
    dict(type='RandomStateHook'),  # exact resume: random streams saved with checkpoints
]
