# SimCLR with the Conv4 ("C4") backbone of few-shot learning (gessl_mm's Conv4: four blocks
# of 64 channels); features are the average-pooled 64 channels.
model = dict(
    type='SimCLR',
    backbone=dict(type='Conv4', hid_channels=64, out_channels=64),
    neck=dict(type='NonLinearNeck', in_channels=64, hid_channels=512, out_channels=128,
              num_layers=2, with_avg_pool=True, norm_cfg=dict(type='BN1d')),
    head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.1))
