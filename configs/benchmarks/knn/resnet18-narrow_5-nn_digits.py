# 5-NN evaluation on the digits (offline, runs on a CPU): the 5-NN protocol of paper §6.2
# for the narrow ResNet-18 of the digits pretraining configs; bank = `trainval` (1,437
# images), queries = `test` (360). Any checkpoint layout (GeSSL, plain, bare backbone):
#   python tools/test.py configs/benchmarks/knn/resnet18-narrow_5-nn_digits.py CKPT --k 5
_base_ = ['../../_base_/datasets/digits_ssl.py', '../../_base_/default_runtime.py']
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet_CIFAR', depth=18, base_channels=16, stem_channels=16,
                  norm_cfg=dict(type='BN'), zero_init_residual=False),
    neck=dict(type='GlobalAveragePooling'))
data_preprocessor = dict(type='ClsDataPreprocessor')  # the dataset base's mean, std, to_rgb
# Evaluation only: no training loop, no pretraining hook of the dataset base.
train_dataloader = None
custom_hooks = []
