# SimCLR + GeSSL, ResNet-50 on ImageNet (paper Tables 2, 3 and 8):
# the network, data and schedule of the plain twin (first base, mmpretrain's config); GeSSL
# wraps the model and the optimizer with its defaults (../_base_/gessl.py; the paper's:
# gessl_paper.py) and reads
# 5 views per image, built from the twin's view pipeline.
_base_ = ['./simclr_resnet50_16xb256-coslr-200e_in1k.py', '../_base_/gessl.py']
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)

# Plain BN instead of mmpretrain's SyncBN: each GPU learns its own tasks and no collective
# may run inside GeSSL's inner steps (GeSSLDistributedWrapper).
model = dict(
    _delete_=True,
    type='GeSSL',
    base=dict(_base_.model,
              backbone=dict(_base_.model.backbone, norm_cfg=dict(type='BN')),
              neck=dict(_base_.model.neck, norm_cfg=dict(type='BN1d'))),
    **_base_.gessl_model)
data_preprocessor = _base_.gessl_data_preprocessor
optim_wrapper = dict(_delete_=True, **_base_.gessl_optim_wrapper)
# Every batch must split into whole tasks: drop the last, incomplete one.
train_dataloader = dict(drop_last=True, dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=5, transforms=[_base_.view_pipeline]),
    dict(type='PackInputs'),
]))
