# Semi-supervised fine-tuning (paper §6.3): 50 epochs, SGD with momentum 0.9, cosine decay.
# The learning rates of the classifier and the backbone depend on the subset (1% or 10%):
# each benchmark config sets `lr` (classifier) and the backbone's `lr_mult`.
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=0.),
                     paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=1.0)}))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=50, by_epoch=True, begin=0, end=50,
         convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=50, val_interval=5)
val_cfg = dict()
test_cfg = dict()
