# 5-NN evaluation on CIFAR-10 (paper §6.2, Table 1 "5-nn"): a 5-nearest-neighbour vote
# of frozen backbone features, bank = the train split, queries = the test split
# (`feature_eval` of the dataset base). tools/test.py loads the backbone of any checkpoint
# (GeSSL `base.backbone.*`, plain `backbone.*`, or extract_backbone.py's bare weights):
#   python tools/test.py configs/benchmarks/knn/resnet18_5-nn_cifar10.py CKPT --k 5
# (it also fits a logistic-regression probe on the bank; --no-linear-probe skips it).
_base_ = ['../../_base_/datasets/cifar10_ssl.py', '../../_base_/default_runtime.py']
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)

model = dict(type='ImageClassifier',
             backbone=dict(type='ResNet_CIFAR', depth=18, norm_cfg=dict(type='BN')),
             neck=dict(type='GlobalAveragePooling'))
data_preprocessor = dict(type='ClsDataPreprocessor')  # the dataset base's mean, std, to_rgb
# Evaluation only: no training loop, no pretraining hook of the dataset base.
train_dataloader = None
custom_hooks = []
