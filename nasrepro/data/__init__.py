"""Data layer: datasets -> seeded splits -> normalised device tensors -> batched augmentation.

Implements the data step of the DAG (DESIGN.md, "The data flow"): digits (``tiny`` profile),
Fashion-MNIST (``default``), CIFAR-10 (``cifar10``, the dataset of DARTS / SNAS, PAPERS.md
section 2) and a synthetic set for unit tests.
"""

from nasrepro.data.augment import Augment, iterate_batches
from nasrepro.data.datasets import Dataset, cache_dir, known_datasets, load_dataset
from nasrepro.data.splits import DataBundle, make_splits, prepare

__all__ = [
    "Augment",
    "DataBundle",
    "Dataset",
    "cache_dir",
    "iterate_batches",
    "known_datasets",
    "load_dataset",
    "make_splits",
    "prepare",
]
