# Labelled CIFAR-10 for linear evaluation: mmpretrain's CIFAR-10 settings (random crop with
# padding and flips for training) read through LocalCIFAR10 from data/cifar10/, batch 128.
_base_ = 'mmpretrain::_base_/datasets/cifar10_bs16.py'

# All 50,000 training images: LocalCIFAR's `train` is the 45,000 of them outside `val`.
train_dataloader = dict(batch_size=128, num_workers=4,
                        dataset=dict(type='LocalCIFAR10', data_root='data/cifar10',
                                     split='trainval'))
val_dataloader = dict(batch_size=128, num_workers=4,
                      dataset=dict(type='LocalCIFAR10', data_root='data/cifar10'))
test_dataloader = val_dataloader
