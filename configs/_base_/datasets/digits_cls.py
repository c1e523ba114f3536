# Labelled digits for linear evaluation (scikit-learn's, shipped, no download): train on
# `trainval` (1,437 images, random 2-pixel shifts), evaluate on `test` (360); batch 128.
dataset_type = 'SklearnDigits'
data_preprocessor = dict(num_classes=10, mean=[77.9] * 3, std=[82.5] * 3, to_rgb=False)

train_pipeline = [dict(type='RandomCrop', crop_size=32, padding=2), dict(type='PackInputs')]
test_pipeline = [dict(type='PackInputs')]

train_dataloader = dict(
    batch_size=128,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(type=dataset_type, split='trainval', pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=128,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(type=dataset_type, split='test', pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
