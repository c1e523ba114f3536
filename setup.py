import os.path as osp

from setuptools import find_packages, setup


def read_requirements(name: str) -> list:
    path = osp.join(osp.dirname(__file__), 'requirements', name)
    with open(path) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


def get_version() -> str:
    scope: dict = {}
    with open(osp.join(osp.dirname(__file__), 'gessl_mm', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='gessl_mm',
    version=get_version(),
    description='GeSSL (ICML 2024) for OpenMMLab: explicitly modeling generality '
    'into self-supervised learning',
    long_description=open('README.md').read() if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'docs')),
    python_requires='>=3.8',
    install_requires=[
        'mmengine>=0.10.7,<1.0.0',
        'mmcv>=2.0.0,<2.2.0',
        'mmpretrain>=1.2.0,<1.3.0',
        'mmdet>=3.3.0,<3.4.0',
        'numpy<2',
        'pycocotools',
        'scikit-learn',
        'matplotlib',
    ],
    extras_require={'tests': read_requirements('tests.txt')},
    zip_safe=False,
)
