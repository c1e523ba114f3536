# SGD, momentum 0.9, weight decay 1e-4 (the paper's outer optimiser), cosine decay.
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=10, by_epoch=True, begin=0, end=10)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=10)
