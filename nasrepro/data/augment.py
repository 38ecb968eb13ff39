"""Batched data augmentation on the device, and minibatch iteration.

The standard CIFAR-10 augmentation of DARTS / SNAS (PAPERS.md section 2): random crop with
zero padding 4, random horizontal flip, and Cutout (length 16 at evaluation), here applied to
a whole batch at once on the training device, with per-sample random parameters drawn from an
explicit :class:`torch.Generator` (same generator state -> same output).

Differences from the torchvision pipeline of the official code: augmentation runs on the
already-normalised tensors, so crop padding and cutout both fill with 0 in normalised units (the
train-set mean colour) instead of black; Cutout, as in DARTS's ``utils.Cutout``, zeroes the
rows ``[cy - L//2, cy - L//2 + L)`` and columns ``[cx - L//2, cx - L//2 + L)`` around a centre
drawn uniformly over the image, clipped at the borders (for odd ``L`` the square here has side
``L``, one more than DARTS's ``2 * (L // 2)``; the papers use even lengths, where both agree).
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F


def _randint(high: int, n: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """``n`` integers in ``[0, high)`` drawn on the generator's device, moved to ``device``."""
    return torch.randint(high, (n,), generator=generator, device=generator.device).to(device)


class Augment:
    """Random crop (zero padding), horizontal flip and Cutout for an image batch.

    Args:
        crop_padding: pixels of zero padding on each side before cropping back to the input
            size (0: no crop).
        flip: flip each image horizontally with probability 1/2.
        cutout: side length ``L`` of the square zeroed per image (0: no cutout).
    """

    def __init__(self, crop_padding: int = 0, flip: bool = False, cutout: int = 0) -> None:
        if crop_padding < 0 or cutout < 0:
            raise ValueError("crop_padding and cutout must be >= 0")
        self.crop_padding = int(crop_padding)
        self.flip = bool(flip)
        self.cutout = int(cutout)

    @property
    def identity(self) -> bool:
        """True when the augmentation does nothing."""
        return self.crop_padding == 0 and not self.flip and self.cutout == 0

    def __repr__(self) -> str:
        return (
            f"Augment(crop_padding={self.crop_padding}, flip={self.flip}, cutout={self.cutout})"
        )

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Augment a batch.

        Random numbers are drawn in a fixed order (crop offsets, flip coins, cutout centres),
        on the generator's device, so the result depends only on the generator state.

        Args:
            x: [B, C, H, W] images.
            generator: the random source (CPU or on ``x``'s device).

        Returns:
            A new [B, C, H, W] tensor (``x`` itself when the augmentation is the identity).
        """
        if self.identity or x.shape[0] == 0:
            return x
        b, c, h, w = x.shape
        dev = x.device
        out = x
        if self.crop_padding:
            p = self.crop_padding
            padded = F.pad(x, (p, p, p, p))
            oy = _randint(2 * p + 1, b, generator, dev)
            ox = _randint(2 * p + 1, b, generator, dev)
            rows = (oy[:, None] + torch.arange(h, device=dev))[:, None, :, None]  # [B,1,H,1]
            cols = (ox[:, None] + torch.arange(w, device=dev))[:, None, None, :]  # [B,1,1,W]
            bi = torch.arange(b, device=dev)[:, None, None, None]
            ci = torch.arange(c, device=dev)[None, :, None, None]
            out = padded[bi, ci, rows, cols]
        if self.flip:
            coin = _randint(2, b, generator, dev).bool()[:, None, None, None]
            out = torch.where(coin, out.flip(3), out)
        if self.cutout:
            half, side = self.cutout // 2, self.cutout
            cy = _randint(h, b, generator, dev)
            cx = _randint(w, b, generator, dev)
            ys = torch.arange(h, device=dev)[None, :]
            xs = torch.arange(w, device=dev)[None, :]
            in_y = (ys >= (cy - half)[:, None]) & (ys < (cy - half + side)[:, None])  # [B,H]
            in_x = (xs >= (cx - half)[:, None]) & (xs < (cx - half + side)[:, None])  # [B,W]
            hole = (in_y[:, :, None] & in_x[:, None, :])[:, None]  # [B,1,H,W]
            out = out.masked_fill(hole, 0)
        return out


def iterate_batches(
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    *,
    shuffle: bool,
    generator: torch.Generator | None = None,
    drop_last: bool = False,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield ``(x_batch, y_batch)`` minibatches covering every sample once.

    Args:
        x: [N, ...] inputs.
        y: [N] targets (same device as ``x``).
        batch_size: samples per batch.
        shuffle: draw a fresh order with ``torch.randperm`` on the CPU.
        generator: a CPU generator for the shuffle (``None``: torch's global generator).
        drop_last: skip the final incomplete batch.

    Yields:
        Batches indexed from ``x`` and ``y`` (on their device).
    """
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    n = x.shape[0]
    if y.shape[0] != n:
        raise ValueError(f"x has {n} samples but y has {y.shape[0]}")
    order = torch.randperm(n, generator=generator) if shuffle else None
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        if order is None:
            yield x[start : start + batch_size], y[start : start + batch_size]
        else:
            ids = order[start : start + batch_size].to(x.device)
            yield x[ids], y[ids]
