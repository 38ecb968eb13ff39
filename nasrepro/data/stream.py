"""Streamed splits: an ImageNet folder in place of whole-dataset tensors (issue 16).

The training loop and the evaluator were written for :class:`~nasrepro.data.DataBundle` tensors
(``train_x[idx]``, ``val_x[i:j]``). ImageNet does not fit in memory, so its bundle holds
:class:`StreamSplit` objects instead: a split of an :class:`~nasrepro.data.imagenet.
ImageFolderDataset` that decodes images on demand through a
:class:`torch.utils.data.DataLoader` (worker processes, pinned memory on a GPU, persistent
workers). The loop and the evaluator reach it through three helpers that also take tensors:

* :func:`train_batches`: one epoch's shuffled batches. The order is ``torch.randperm`` of the
  loop's checkpointed generator (as :func:`~nasrepro.data.iterate_batches` draws it) and each
  image's augmentation (RandomResizedCrop, flip, ...) comes from a stream keyed by a token drawn
  from the same generator and the image's index, so a run is reproducible, resumes
  bit-identically and does not depend on the number of workers. With ``world_size`` ranks,
  each rank decodes only its contiguous share of every global batch.
* :func:`eval_batches`: the split in order, batch by batch (evaluation transform).
* :func:`take`: the images at some positions as one tensor (BN recalibration batches, a
  DARTS validation batch). On the training split they are augmented with a fixed token, so
  recalibration sees training-style images (as the official SPOS and AttentiveNAS code) that are
  the same for every subnet and every run.

Slicing a split (``val_x[:n]``) gives a lazy sub-split; labels are ordinary tensors
(``val_y``), so the code that counts, slices or scores labels is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import DataLoader

from nasrepro.errors import ConfigError, DataError

#: the augmentation token of :func:`take` on a training split (any fixed value would do)
RECALIBRATION_TOKEN = -1


@dataclass(frozen=True, eq=False)
class StreamSplit:
    """Images ``positions`` of ``dataset``, read lazily (see the module docstring).

    Attributes:
        dataset: an :class:`~nasrepro.data.imagenet.ImageFolderDataset` (its transform: the
            training augmentation or the evaluation crop).
        positions: indices into ``dataset``, in split order.
        image_shape: ``(C, H, W)`` of one decoded image.
        device: where decoded batches go.
        workers: DataLoader worker processes (0: decode in this process).
    """

    dataset: Any
    positions: tuple[int, ...]
    image_shape: tuple[int, int, int]
    device: torch.device = torch.device("cpu")
    workers: int = 0
    _loaders: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.positions), *self.image_shape)

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, key: slice) -> StreamSplit:
        if not isinstance(key, slice):
            raise TypeError("a StreamSplit is sliced with [a:b]; use nasrepro.data.stream.take "
                            "for positions")
        return replace(self, positions=self.positions[key], _loaders={})

    def _loader(self, batch_size: int) -> DataLoader:
        """A DataLoader over batches of keys (set by the caller), kept for reuse: its workers
        persist across epochs and evaluations."""
        loader = self._loaders.get(batch_size)
        if loader is None:
            sampler = _KeyBatches()
            loader = DataLoader(self.dataset, batch_sampler=sampler, num_workers=self.workers,
                                collate_fn=getattr(self.dataset, "collate", None),
                                pin_memory=self.device.type == "cuda",
                                persistent_workers=self.workers > 0)
            self._loaders[batch_size] = loader
        return loader

    def _decode(self, key_batches: list[list[tuple[int, int]]], batch_size: int
                ) -> Iterator[tuple[Tensor, Tensor]]:
        loader = self._loader(batch_size)
        loader.batch_sampler.batches = key_batches
        batches = iter(loader)
        while True:
            try:
                xb, yb = next(batches)
            except StopIteration:
                return
            except DataError as exc:  # from a worker: torch prefixes the worker's traceback
                raise DataError(_last_line(str(exc))) from None
            if isinstance(xb, list):  # data.decoder: torchvision (decode on the device)
                from nasrepro.data.imagenet import decode_batch

                xb = decode_batch(xb, self.dataset.transform, self.device)
            yield (xb.to(self.device, non_blocking=True),
                   yb.to(self.device, non_blocking=True))


def _last_line(message: str) -> str:
    """The error's own line of a message that a DataLoader worker wrapped in its traceback
    (``Caught DataError in DataLoader worker process 0. Original Traceback ...``)."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else message
    return last.split("DataError: ", 1)[-1]


class _KeyBatches:
    """A batch sampler whose batches of ``(token, index)`` keys are set before each pass."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[int, int]]] = []

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


def select(x: Tensor | StreamSplit, idx: Tensor) -> Tensor | StreamSplit:
    """The items at positions ``idx`` of a split: indexed tensors, or a lazy sub-split."""
    if not is_streamed(x):
        return x[idx.to(x.device)]
    return replace(x, positions=tuple(x.positions[int(i)] for i in idx), _loaders={})


def is_streamed(x: Any) -> bool:
    """Whether ``x`` is a :class:`StreamSplit` (else a tensor)."""
    return isinstance(x, StreamSplit)


def train_batches(x: Tensor | StreamSplit, y: Tensor, batch_size: int, *,
                  generator: torch.Generator, drop_last: bool, rank: int = 0,
                  world_size: int = 1) -> Iterator[tuple[Tensor, Tensor]]:
    """One epoch of shuffled training batches of a streamed split (tensors: see
    :func:`nasrepro.data.iterate_batches`, which draws the same order).

    With ``world_size`` > 1 this rank gets its contiguous share of each global batch of
    ``batch_size`` (the loop then does not shard again).
    """
    n = len(x)
    order = torch.randperm(n, generator=generator).tolist()
    token = int(torch.randint(0, 2**62, (1,), generator=generator))
    stop = n - n % batch_size if drop_last else n
    keys = []
    for start in range(0, stop, batch_size):
        chunk = order[start:start + batch_size]
        if world_size > 1:
            if len(chunk) % world_size:
                raise ConfigError(f"a global batch of {len(chunk)} does not split over "
                                  f"{world_size} ranks; set batch_size to a multiple of "
                                  f"{world_size}")
            per = len(chunk) // world_size
            chunk = chunk[rank * per:(rank + 1) * per]
        keys.append([(token, x.positions[i]) for i in chunk])
    return x._decode(keys, batch_size)


def eval_batches(x: Tensor | StreamSplit, y: Tensor, batch_size: int, *, rank: int = 0,
                 world_size: int = 1) -> Iterator[tuple[Tensor, Tensor]]:
    """``(x, y)`` batches of a split in order: slices of tensors, or decoded images. With
    ``world_size`` > 1, only the batches ``rank, rank + W, ...`` (a rank's share)."""
    starts = list(range(0, x.shape[0], batch_size))[rank::world_size]
    if not is_streamed(x):
        for i in starts:
            yield x[i:i + batch_size], y[i:i + batch_size]
        return
    keys = [(0, p) for p in x.positions]
    yield from x._decode([keys[i:i + batch_size] for i in starts], batch_size)


def take(x: Tensor | StreamSplit, idx: Tensor | Sequence[int]) -> Tensor:
    """The images at positions ``idx`` of a split, as one tensor on its device."""
    if not is_streamed(x):
        return x[torch.as_tensor(idx, dtype=torch.int64).to(x.device)]
    keys = [(RECALIBRATION_TOKEN, x.positions[int(i)]) for i in idx]
    bs = max(1, min(len(keys), 256))
    parts = [xb for xb, _ in x._decode([keys[i:i + bs] for i in range(0, len(keys), bs)], bs)]
    return torch.cat(parts) if parts else torch.empty((0, *x.image_shape), device=x.device)
