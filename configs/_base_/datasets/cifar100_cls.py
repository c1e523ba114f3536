# Labelled CIFAR-100 for linear evaluation: mmpretrain's CIFAR-100 settings read through
# LocalCIFAR100 from data/cifar100/, batch 128.
_base_ = 'mmpretrain::_base_/datasets/cifar100_bs16.py'

# All 50,000 training images: LocalCIFAR's `train` is the 45,000 of them outside `val`.
train_dataloader = dict(batch_size=128, num_workers=4,
                        dataset=dict(type='LocalCIFAR100', data_root='data/cifar100',
                                     split='trainval'))
val_dataloader = dict(batch_size=128, num_workers=4,
                      dataset=dict(type='LocalCIFAR100', data_root='data/cifar100'))
test_dataloader = val_dataloader
