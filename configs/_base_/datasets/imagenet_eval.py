# ImageNet (paper §6.1, App. D) for configs that inherit an mmpretrain ImageNet
# pretraining config: the labelled sets on which tools/test.py evaluates frozen features
# (bank = train, query = val; 5-NN over 1.28M images, so no evaluation hook during training)
# and RandomStateHook. Such a config also sets train_dataloader.dataset.type =
# 'LocalImageNet' (mmpretrain's ImageNet with a clear error when data/imagenet/ is missing).
imagenet_eval_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
feature_eval = dict(
    bank=dict(type='LocalImageNet', data_root='data/imagenet', split='train',
              pipeline=imagenet_eval_pipeline),
    query=dict(type='LocalImageNet', data_root='data/imagenet', split='val',
               pipeline=imagenet_eval_pipeline))
custom_hooks = [
    dict(type='RandomStateHook'),  # exact resume: random streams saved with checkpoints
]
