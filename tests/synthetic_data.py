"""Generated data shared by tests in several folders: tiny CIFAR-10 / CIFAR-100 trees in
both layouts (the official Python batches and class folders), and Gaussian feature
clusters."""
import pickle

import numpy as np
import torch
from PIL import Image

# Every image: a class-specific colour plus noise, so that items can be told apart.
TRAIN_PER_CLASS, TEST_PER_CLASS = 10, 3


def cifar_images(num_classes: int, per_class: int, seed: int):
    """(N, 32, 32, 3) uint8 images and labels, classes interleaved at random (as in the
    official batches)."""
    rng = np.random.RandomState(seed)
    labels = rng.permutation(np.repeat(np.arange(num_classes), per_class))
    images = rng.randint(0, 256, size=(len(labels), 32, 32, 3)).astype(np.uint8)
    return images, labels


def write_cifar_batches(folder, files, images, labels, label_key):
    """Python batches in the official format: dicts of (n, 3072) CHW rows and labels."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, part in zip(files, np.array_split(np.arange(len(labels)), len(files))):
        rows = images[part].transpose(0, 3, 1, 2).reshape(len(part), -1)
        with open(folder / name, 'wb') as f:
            pickle.dump({'data': rows, label_key: labels[part].tolist()}, f)


def write_cifar_tree(split_dir, images, labels, classes):
    """``split_dir/<class>/NNNN.png``, numbered in the order of the batches (lossless)."""
    for c, name in enumerate(classes):
        (split_dir / name).mkdir(parents=True)
        for rank, i in enumerate(np.flatnonzero(labels == c)):
            Image.fromarray(images[i]).save(split_dir / name / f'{rank:04d}.png')


def make_cifar(root, cls, layout: str):
    classes = cls.METAINFO['classes']
    train = cifar_images(len(classes), TRAIN_PER_CLASS, seed=0)
    test = cifar_images(len(classes), TEST_PER_CLASS, seed=1)
    if layout == 'batches':
        folder = root / cls.base_folder
        write_cifar_batches(folder, cls.train_files, *train, cls.label_key)
        write_cifar_batches(folder, cls.test_files, *test, cls.label_key)
        with open(folder / cls.meta_file, 'wb') as f:
            pickle.dump({cls.meta_key: list(classes)}, f)
    else:
        write_cifar_tree(root / 'train', *train, classes)
        write_cifar_tree(root / 'test', *test, classes)
    return dict(train=train, test=test)


NUM_CLASSES, PER_CLASS, DIM = 10, 30, 32


def clusters(separation: float = 6.0, seed: int = 0):
    """``NUM_CLASSES`` Gaussian clusters: features (300, 32) and labels (300,)."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(NUM_CLASSES).repeat_interleave(PER_CLASS)
    centers = torch.randn(NUM_CLASSES, DIM, generator=g) * separation
    return centers[labels] + torch.randn(len(labels), DIM, generator=g), labels

