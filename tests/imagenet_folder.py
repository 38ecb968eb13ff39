"""A generated ImageNet-style folder for the tests (no ImageNet needed): ``train/<wnid>/`` and
``val/<wnid>/`` of small random JPEGs written with Pillow, and the imagenet profile's
tiny-settings overlay (issue 16: the imagenet DAG end to end on CPU)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nasrepro.config import load_config


def write_jpeg(path: Path, seed: int, size: tuple[int, int],
               colour: tuple[int, int, int] | None = None) -> None:
    """A random RGB JPEG of ``size`` (width, height) pixels at ``path``; with ``colour``, half
    noise and half that colour."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    if colour is not None:
        arr = (arr // 2 + np.array(colour, dtype=np.uint8) // 2).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path, "JPEG", quality=90)


def write_folder(root: Path, classes: list[str], n_train: int, n_val: int,
                 sizes: tuple[int, int] = (40, 64)) -> Path:
    """``root/train/<c>/`` with ``n_train`` images per class and ``root/val/<c>/`` with
    ``n_val``; widths grow and heights shrink in ``sizes`` across a class's images. Each
    class has its own mean colour, so a net can learn something."""
    k = 0
    lo, hi = sizes
    for label, c in enumerate(classes):
        colour = tuple(int(v) for v in np.random.default_rng(10_000 + label).integers(0, 256, 3))
        for part, n in (("train", n_train), ("val", n_val)):
            for i in range(n):
                k += 1
                w = lo + (3 * i) % (hi - lo)
                h = hi - (2 * i) % (hi - lo)
                write_jpeg(root / part / c / f"{c}_{i}.JPEG", k, (w, h), colour)
    return root


def wnids(n: int) -> list[str]:
    """``n`` ImageNet-style class folder names."""
    return [f"n{1440764 + 1000 * i:08d}" for i in range(n)]


#: the three ImageNet papers: DARTS/SNAS is a CIFAR-10 study
IMAGENET_PAPERS = ("spos", "attentivenas", "fbnetv3")


def tiny_imagenet_overlay(folder: Path) -> dict:
    """The imagenet profile at tiny settings on ``folder`` (10 classes, 16-pixel crops): the
    tiny profile's paper sections with its presets' RGB twins (``*/tiny-rgb``), CPU, one
    seed."""
    tiny = load_config("tiny")
    overlay: dict = {"device": "cpu", "threads": 1, "progress": False, "seeds": [0],
                     "data": {"path": str(folder), "val_size": 20, "split_seed": 0,
                              "image_size": 16, "workers": 0, "n_classes": None}}
    for paper in IMAGENET_PAPERS:
        section = dict(tiny[paper])
        section["preset"] = section["preset"].replace("/tiny", "/tiny-rgb")
        overlay[paper] = section
    # one method per kind where the tiny profile lists several: every rule runs, in fewer jobs
    overlay["spos"] |= {"methods": {"sampler": ["uniform"], "searcher": ["evolution"]},
                        "n_random": 1}
    overlay["attentivenas"] |= {"methods": tiny["attentivenas"]["methods"]
                                | {"sampler": ["uniform", "bestup"]}}
    # and the fewest epochs that still run every step (a smoke test of the data path)
    overlay["spos"]["supernet_train"] = overlay["spos"]["supernet_train"] | {"epochs": 2}
    overlay["spos"]["retrain"] = overlay["spos"]["retrain"] | {"epochs": 1}
    overlay["spos"]["search"] = overlay["spos"]["search"] | {"generations": 1}
    overlay["attentivenas"]["supernet_train"] = (overlay["attentivenas"]["supernet_train"]
                                                 | {"epochs": 1})
    overlay["fbnetv3"]["coarse"] = overlay["fbnetv3"]["coarse"] | {"iterations": 1}
    return overlay


def main(argv: list[str] | None = None) -> None:
    """``python -m tests.imagenet_folder DIR``: write DIR/folder (10 classes of 10 + 3 small
    JPEGs) and DIR/overlay.yaml (:func:`tiny_imagenet_overlay`) for ``make imagenet-smoke``."""
    import argparse

    import yaml

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("dir", type=Path)
    args = ap.parse_args(argv)
    folder = write_folder(args.dir / "folder", wnids(10), n_train=10, n_val=3)
    (args.dir / "overlay.yaml").write_text(yaml.safe_dump(tiny_imagenet_overlay(folder)))


if __name__ == "__main__":
    main()
