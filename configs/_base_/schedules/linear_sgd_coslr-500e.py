# Linear evaluation (paper §6.2): SGD, momentum 0.9, 500 epochs, lr 5e-2 decayed by a cosine
# to 5e-6 (batch size 128 is set by the dataset base). No weight decay (not stated in the
# paper; the usual linear-probe choice).
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=5e-2, momentum=0.9, weight_decay=0.))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=500, eta_min=5e-6, by_epoch=True, begin=0, end=500)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=500, val_interval=10)
val_cfg = dict()
test_cfg = dict()
