# Pretraining schedule of the small benchmarks: SGD, momentum 0.9, weight decay 1e-4 (the
# paper's optimiser, App. C), cosine decay over 200 epochs. A GeSSL config replaces the
# optimizer wrapper by its BiLevelOptimWrapper; the scheduler then decays the outer lr.
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=200, by_epoch=True, begin=0, end=200,
         convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=200)
