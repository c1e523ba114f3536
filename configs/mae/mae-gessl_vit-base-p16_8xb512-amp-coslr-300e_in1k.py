# MAE + GeSSL, ViT-B/16 on ImageNet (paper App. F.1, Table 12):
# the network, data and schedule of the plain twin (first base, mmpretrain's config); GeSSL
# wraps the model and the optimizer with GeSSL's defaults (../_base_/gessl.py) and reads
# 5 views per image, built from the twin's view pipeline.
_base_ = ['./mae_vit-base-p16_8xb512-amp-coslr-300e_in1k.py', '../_base_/gessl.py']
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)

# MAE has no projection head: the task head reads the backbone's (unmasked) tokens, so the
# inner loop must adapt the backbone (the heads-only mode would leave pi unchanged).
model = dict(_delete_=True, type='GeSSL', base=_base_.model,
             task_head=dict(_base_.gessl_model.task_head, feature='backbone'),
             outer_loss=_base_.gessl_model.outer_loss,
             ssl_loss_weight=_base_.gessl_model.ssl_loss_weight)
data_preprocessor = _base_.gessl_data_preprocessor
optim_wrapper = dict(_delete_=True, **_base_.gessl_optim_wrapper, amp=True)
optim_wrapper.update(inner_params='all')
# Every batch must split into whole tasks: drop the last, incomplete one.
train_dataloader = dict(drop_last=True, dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    # 5 crops of the twin's single-view pipeline (crop + flip)
    dict(type='MultiView', num_views=5, transforms=[_base_.train_pipeline[1:-1]]),
    dict(type='PackInputs'),
]))
