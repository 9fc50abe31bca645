# Copyright (c) pinas_mm contributors. All rights reserved.
"""Install with `make install` (builds the whole stack in .venv/, see README); `pip install -e .` alone assumes
a supported torch and torchvision and mmcv 2.1 (with its compiled ops for mmdet / mmseg) are already installed.
install_requires and the `mim` extra hold the supported ranges; requirements/tested.txt pins what `make install`
installs."""
import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def parse_requirements(name):
    """Requirement lines of ``requirements/<name>`` without comments; ``-r`` includes are not used there."""
    lines = (HERE / 'requirements' / name).read_text().splitlines()
    return [line.split('#')[0].strip() for line in lines if line.split('#')[0].strip()]


def get_version():
    return re.search(r"__version__ = '(.+)'", (HERE / 'pinas_mm' / 'version.py').read_text()).group(1)


setup(
    name='pinas_mm',
    version=get_version(),
    description='Pi-NAS: self-supervised one-shot neural architecture search for mmrazor',
    long_description=(HERE / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'benchmarks')),
    python_requires='>=3.8',
    install_requires=parse_requirements('torch.txt') + parse_requirements('runtime.txt'),
    # OpenMMLab's convention: the toolboxes are the `mim` extra (`mim install` / `pip install .[mim]`), so that an
    # installed mmcv-lite or a compiled mmcv is never replaced by pip's own build; `import pinas_mm` checks them.
    extras_require={'mim': parse_requirements('mminstall.txt'), 'tests': parse_requirements('tests.txt')},
    zip_safe=False,
)
