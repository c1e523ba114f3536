# Few-shot evaluation on miniImageNet (paper §6.5, Table 5) with tools/analysis/few_shot.py:
# N-way K-shot episodes of the 20 test classes (never seen in pretraining), scored on frozen
# Conv4 features by the nearest class mean and a logistic regression, mean accuracy +- 95%
# confidence interval. The paper's settings (5,1), (5,5) and (20,1):
#   python tools/analysis/few_shot.py configs/benchmarks/few_shot/conv4_few-shot_miniimagenet.py \
#       CKPT --way 5 --shot 1 5 --episodes 600
#   python tools/analysis/few_shot.py configs/benchmarks/few_shot/conv4_few-shot_miniimagenet.py \
#       CKPT --way 20 --shot 1 --episodes 600
# The model is a GeSSL Conv4 (SimCLR's), so CKPT may be any GeSSL Conv4 checkpoint (only the
# backbone matters). For a plain checkpoint, pass its own pretraining config instead: its
# `feature_eval.query` is the same test split.
_base_ = ['../../simclr/simclr-gessl_conv4_1xb128-coslr-200e_miniimagenet.py']
custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)

feature_eval = dict(query=dict(split='test'))
custom_hooks = []
