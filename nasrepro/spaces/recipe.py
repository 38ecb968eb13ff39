"""FBNetV3's training-recipe space and the joint architecture-recipe candidate space.

Dai et al. 2021 (FBNetV3), Sec. 3 / Table 1 (PAPERS.md section 4): a candidate is a pair
``{"arch": ..., "recipe": ...}``. The arch part comes from a MobileNet-style space (``mobilenet``
or ``fbnetv3``: any space with the AttentiveNAS ``candidates`` layout); the recipe part has

=================  ===========  ==============================================================
field              kind         meaning (how :meth:`RecipeSpace.train_config` uses it)
=================  ===========  ==============================================================
``optimizer``      categorical  ``TrainConfig.optimizer`` (sgd / rmsprop / adamw)
``lr``             log range    base learning rate; ``TrainConfig.lr = lr * lr_scale[optimizer]``
``weight_decay``   log range    ``TrainConfig.weight_decay``
``label_smoothing`` range       ``TrainConfig.label_smoothing``
``mixup_alpha``    range        ``TrainConfig.mixup_alpha`` (0: off)
``dropout``        range        dropout before the classifier, set on the network at build time
``drop_path``      range        stochastic depth: ``TrainConfig.drop_path`` (constant schedule)
``ema``            categorical  model EMA on/off: ``TrainConfig.ema_decay`` (``ema_decay`` or None)
``epochs``         int range    ``TrainConfig.epochs``
=================  ===========  ==============================================================

Ranges are ``[low, high]`` in the config (``low == high`` fixes a field); ``lr`` and
``weight_decay`` are sampled and encoded in log space (``weight_decay`` may include 0: then
``log(x + wd_floor)``).

Encoding for the predictor (:meth:`JointSpace.encode`): one-hot categoricals (optimizer, ema)
and min-max normalised ranges in [0, 1] (arch genes: the gene's value scaled between its
smallest and largest choice; recipe ranges: between low and high, in log space for the log
fields). Genes and fields with a single value are left out. :meth:`JointSpace.decode` inverts it
(nearest choice for arch genes), so ``decode(encode(c)) == c`` up to float rounding.

Sobol pools sample the *unit cube* view (:meth:`JointSpace.from_unit`): one dimension per free
arch gene (index ``floor(u * n_choices)``) and per free recipe field.
"""

from __future__ import annotations

import copy
import json
import math
import random
from collections.abc import Sequence
from typing import Any

from nasrepro.errors import ArchError, ConfigError
from nasrepro.io import stable_hash

#: recipe fields in canonical order
RECIPE_KEYS: tuple[str, ...] = ("optimizer", "lr", "weight_decay", "label_smoothing",
                                "mixup_alpha", "dropout", "drop_path", "ema", "epochs")
CATEGORICAL = ("optimizer", "ema")
LOG_KEYS = ("lr", "weight_decay")
INT_KEYS = ("epochs",)
OPTIMIZERS = ("sgd", "rmsprop", "adamw")
#: offset of log(weight_decay) so that 0 is allowed in the range
WD_FLOOR = 1e-8
#: mobilenet-style arch keys (AttentiveNAS layout), in order
ARCH_GENE_KEYS = ("resolution", "width", "depth", "kernel_size", "expand_ratio")


def _round(v: float) -> float:
    """Six significant digits: readable JSON, stable ids."""
    return float(f"{float(v):.6g}")


class RecipeSpace:
    """The training-recipe half of an FBNetV3 candidate.

    Args:
        ranges: ``{field: [low, high]}`` for the ranges, ``{field: [choices]}`` for
            ``optimizer`` and ``ema``; every field of :data:`RECIPE_KEYS` is required.
        lr_scale: per-optimizer multiplier of ``lr`` (adaptive optimizers need smaller rates).
        ema_decay: EMA decay per iteration when ``ema`` is true.
        base_train: the fixed training keys (batch_size, schedule, momentum, ...) merged into
            every :meth:`train_config`.
    """

    def __init__(self, ranges: dict[str, Any], lr_scale: dict[str, float] | None = None,
                 ema_decay: float = 0.99, base_train: dict[str, Any] | None = None) -> None:
        missing = [k for k in RECIPE_KEYS if k not in ranges]
        unknown = sorted(set(ranges) - set(RECIPE_KEYS))
        if missing or unknown:
            raise ConfigError(f"recipe space: missing field(s) {missing} / unknown {unknown}; "
                              f"give exactly {', '.join(RECIPE_KEYS)}")
        self.ranges: dict[str, Any] = {}
        for k in RECIPE_KEYS:
            v = ranges[k]
            if k in CATEGORICAL:
                if not isinstance(v, list | tuple) or not v:
                    raise ConfigError(f"recipe field {k!r} must be a non-empty list of choices")
                if k == "optimizer" and any(o not in OPTIMIZERS for o in v):
                    raise ConfigError(f"recipe optimizer choices {v} must be among "
                                      f"{', '.join(OPTIMIZERS)}")
                if k == "ema" and any(not isinstance(o, bool) for o in v):
                    raise ConfigError(f"recipe field 'ema' must list true/false, got {v}")
                self.ranges[k] = list(v)
            else:
                if (not isinstance(v, list | tuple) or len(v) != 2
                        or any(isinstance(x, bool) for x in v)):
                    raise ConfigError(f"recipe field {k!r} must be a range [low, high], got {v!r}")
                lo, hi = (int(x) for x in v) if k in INT_KEYS else (float(x) for x in v)
                if lo > hi or lo < 0 or (k == "lr" and lo <= 0):
                    raise ConfigError(f"recipe range {k}={v!r} needs 0 <= low <= high "
                                      f"(lr > 0); fix the config")
                self.ranges[k] = (lo, hi)
        self.lr_scale = {o: 1.0 for o in OPTIMIZERS} | dict(lr_scale or {})
        self.ema_decay = float(ema_decay)
        self.base_train = dict(base_train or {})
        #: fields that vary (the others are constant)
        self.free = [k for k in RECIPE_KEYS if self._n_values(k) > 1]

    def _n_values(self, k: str) -> int:
        r = self.ranges[k]
        if k in CATEGORICAL:
            return len(r)
        if k in INT_KEYS:
            return r[1] - r[0] + 1
        return 1 if r[0] == r[1] else 2

    # --- helpers for ranges ---------------------------------------------------------------
    def _to_t(self, k: str, v: float) -> float:
        """Value -> [0, 1] position in its range (log space for LOG_KEYS)."""
        lo, hi = self.ranges[k]
        if hi == lo:
            return 0.0
        if k in LOG_KEYS:
            off = WD_FLOOR if k == "weight_decay" else 0.0
            return (math.log(v + off) - math.log(lo + off)) / (math.log(hi + off)
                                                               - math.log(lo + off))
        return (v - lo) / (hi - lo)

    def _from_t(self, k: str, t: float) -> Any:
        """[0, 1] position -> value (inverse of :meth:`_to_t`; ints rounded)."""
        lo, hi = self.ranges[k]
        t = min(max(float(t), 0.0), 1.0)
        if k in INT_KEYS:
            return int(min(hi, lo + math.floor(t * (hi - lo + 1))))
        if k in LOG_KEYS:
            off = WD_FLOOR if k == "weight_decay" else 0.0
            v = math.exp(math.log(lo + off) + t * (math.log(hi + off) - math.log(lo + off))) - off
            return _round(min(max(v, lo), hi))
        return _round(lo + t * (hi - lo))

    # --- encoding -------------------------------------------------------------------------
    def validate(self, recipe: Any) -> dict[str, Any]:
        """Canonical recipe dict (keys in :data:`RECIPE_KEYS` order) or :class:`ArchError`."""
        if not isinstance(recipe, dict):
            raise ArchError(f"malformed recipe: got {type(recipe).__name__}, not a dict with "
                            f"keys {', '.join(RECIPE_KEYS)}")
        missing = [k for k in RECIPE_KEYS if k not in recipe]
        unknown = sorted(str(k) for k in set(recipe) - set(RECIPE_KEYS))
        if missing or unknown:
            raise ArchError(f"malformed recipe: missing {missing}, unknown {unknown}; give "
                            f"exactly {', '.join(RECIPE_KEYS)}")
        out: dict[str, Any] = {}
        for k in RECIPE_KEYS:
            v = recipe[k]
            if k in CATEGORICAL:
                if v not in self.ranges[k] or (k == "ema" and not isinstance(v, bool)):
                    raise ArchError(f"malformed recipe: {k}={v!r} is not one of "
                                    f"{self.ranges[k]}")
                out[k] = v
                continue
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise ArchError(f"malformed recipe: {k}={v!r} is not a number")
            lo, hi = self.ranges[k]
            if not lo - 1e-12 <= v <= hi + 1e-12 * max(1.0, abs(hi)):
                raise ArchError(f"malformed recipe: {k}={v!r} is outside [{lo}, {hi}]")
            if k in INT_KEYS:
                if float(v) != int(v):
                    raise ArchError(f"malformed recipe: {k}={v!r} is not an integer")
                out[k] = int(v)
            else:
                out[k] = _round(v)
        return out

    def encode(self, recipe: dict[str, Any]) -> list[float]:
        """One-hot categoricals, min-max normalised ranges (free fields only)."""
        r = self.validate(recipe)
        out: list[float] = []
        for k in self.free:
            if k in CATEGORICAL:
                out.extend(1.0 if r[k] == c else 0.0 for c in self.ranges[k])
            else:
                out.append(self._to_t(k, r[k]))
        return out

    @property
    def encoding_size(self) -> int:
        return sum(len(self.ranges[k]) if k in CATEGORICAL else 1 for k in self.free)

    def decode(self, vec: Sequence[float]) -> dict[str, Any]:
        """Inverse of :meth:`encode` (argmax for one-hot blocks)."""
        vec = list(vec)
        out: dict[str, Any] = {}
        i = 0
        for k in RECIPE_KEYS:
            if k not in self.free:
                lo = self.ranges[k][0]
                out[k] = lo if k in CATEGORICAL or k in INT_KEYS else _round(lo)
                continue
            if k in CATEGORICAL:
                n = len(self.ranges[k])
                block = vec[i:i + n]
                out[k] = self.ranges[k][max(range(n), key=lambda j: block[j])]
                i += n
            else:
                t = vec[i]
                if k in INT_KEYS:
                    lo, hi = self.ranges[k]
                    out[k] = int(round(lo + t * (hi - lo)))
                else:
                    out[k] = self._from_t(k, t)
                i += 1
        return out

    def _encode_int_t(self, k: str, v: int) -> float:
        lo, hi = self.ranges[k]
        return 0.0 if hi == lo else (v - lo) / (hi - lo)

    # --- sampling -------------------------------------------------------------------------
    @property
    def n_unit_dims(self) -> int:
        return len(self.free)

    def from_unit(self, u: Sequence[float]) -> dict[str, Any]:
        """A recipe from a point of the unit cube (one coordinate per free field)."""
        out: dict[str, Any] = {}
        it = iter(u)
        for k in RECIPE_KEYS:
            if k not in self.free:
                lo = self.ranges[k][0]
                out[k] = lo if k in CATEGORICAL or k in INT_KEYS else _round(lo)
            elif k in CATEGORICAL:
                c = self.ranges[k]
                out[k] = c[min(int(next(it) * len(c)), len(c) - 1)]
            else:
                out[k] = self._from_t(k, next(it))
        return out

    def sample(self, rng: random.Random) -> dict[str, Any]:
        """Uniform recipe (log-uniform for lr and weight decay)."""
        return self.from_unit([rng.random() for _ in range(self.n_unit_dims)])

    def mutate(self, recipe: dict[str, Any], rng: random.Random, prob: float) -> dict[str, Any]:
        """Resample each free field with probability ``prob`` (categoricals to another value)."""
        r = self.validate(recipe)
        for k in self.free:
            if rng.random() >= prob:
                continue
            if k in CATEGORICAL:
                r[k] = rng.choice([c for c in self.ranges[k] if c != r[k]])
            else:
                r[k] = self._from_t(k, rng.random())
        return r

    def crossover(self, a: dict[str, Any], b: dict[str, Any], rng: random.Random
                  ) -> dict[str, Any]:
        """Each field from ``a`` or ``b`` with probability 1/2."""
        a, b = self.validate(a), self.validate(b)
        return {k: a[k] if rng.random() < 0.5 else b[k] for k in RECIPE_KEYS}

    # --- use ------------------------------------------------------------------------------
    def train_config(self, recipe: dict[str, Any]) -> dict[str, Any]:
        """The ``TrainConfig`` dict of ``recipe`` (dropout is not in it: see :meth:`dropout`)."""
        r = self.validate(recipe)
        cfg = dict(self.base_train)
        cfg.update({
            "epochs": r["epochs"],
            "optimizer": r["optimizer"],
            "lr": r["lr"] * self.lr_scale[r["optimizer"]],
            "weight_decay": r["weight_decay"],
            "label_smoothing": r["label_smoothing"],
            "mixup_alpha": r["mixup_alpha"],
            "drop_path": r["drop_path"],
            "drop_path_schedule": "constant",
            "ema_decay": self.ema_decay if r["ema"] else None,
        })
        if cfg.get("warmup_epochs", 0) > cfg["epochs"]:
            cfg["warmup_epochs"] = float(cfg["epochs"])
        return cfg

    @staticmethod
    def dropout(recipe: dict[str, Any]) -> float:
        """Dropout probability before the classifier (set on the net at build time)."""
        return float(recipe["dropout"])


class ArchGenes:
    """The numeric genes of a MobileNet-style space (``space.candidates`` layout)."""

    def __init__(self, space: Any) -> None:
        self.space = space
        cand = space.candidates
        genes: list[tuple[str, int | None, list]] = [("resolution", None,
                                                      list(cand["resolution"]))]
        for key in ARCH_GENE_KEYS[1:]:
            genes += [(key, i, list(c)) for i, c in enumerate(cand[key])]
        self.genes = genes
        self.free = [g for g in genes if len(g[2]) > 1]

    def get(self, arch: dict, gene: tuple) -> Any:
        key, i, _ = gene
        return arch[key] if i is None else arch[key][i]

    def encode(self, arch: dict) -> list[float]:
        out = []
        for g in self.free:
            c = g[2]
            lo, hi = min(c), max(c)
            out.append((float(self.get(arch, g)) - lo) / (hi - lo))
        return out

    def _assemble(self, values: dict[tuple, Any]) -> dict:
        arch: dict[str, Any] = {}
        for g in self.genes:
            key, i, c = g
            v = values.get((key, i), c[0])
            if i is None:
                arch[key] = v
            else:
                arch.setdefault(key, []).append(v)
        return arch

    def decode(self, vec: Sequence[float]) -> dict:
        values = {}
        for g, t in zip(self.free, vec, strict=True):
            c = g[2]
            lo, hi = min(c), max(c)
            x = lo + float(t) * (hi - lo)
            values[(g[0], g[1])] = min(c, key=lambda v: abs(v - x))
        return self._assemble(values)

    def from_unit(self, u: Sequence[float]) -> dict:
        values = {}
        for g, t in zip(self.free, u, strict=True):
            c = g[2]
            values[(g[0], g[1])] = c[min(int(t * len(c)), len(c) - 1)]
        return self._assemble(values)


class JointSpace:
    """Space-like object over ``{"arch", "recipe"}`` candidates (search loops, Sobol pools).

    It has what :func:`nasrepro.search.evolution.evolution_search` needs (``sample``,
    ``mutate``, ``crossover``, ``validate``, ``arch_id``, ``cost``). With ``fixed_arch`` it is
    AutoTrain's recipe-only space; with ``fixed_recipe`` the arch-only baseline space.

    Args:
        arch_space: a MobileNet-style space (``candidates``, ``validate``, ``cost``, ``build``).
        recipes: the :class:`RecipeSpace`.
        fixed_arch: keep the arch at this value (recipe-only search).
        fixed_recipe: keep the recipe at this value (arch-only search).
    """

    def __init__(self, arch_space: Any, recipes: RecipeSpace, *, fixed_arch: dict | None = None,
                 fixed_recipe: dict | None = None) -> None:
        self.arch_space = arch_space
        self.recipes = recipes
        self.genes = ArchGenes(arch_space)
        self.fixed_arch = arch_space.validate(fixed_arch) if fixed_arch is not None else None
        self.fixed_recipe = recipes.validate(fixed_recipe) if fixed_recipe is not None else None
        self.full_name = f"joint({arch_space.full_name})"

    # --- encoding -------------------------------------------------------------------------
    def validate(self, cand: Any) -> dict[str, Any]:
        """Canonical ``{"arch": ..., "recipe": ...}``; accepts JSON text."""
        if isinstance(cand, str | bytes):
            try:
                cand = json.loads(cand)
            except ValueError as exc:
                raise ArchError(f"malformed candidate: cannot parse JSON ({exc})") from None
        if not isinstance(cand, dict) or set(cand) != {"arch", "recipe"}:
            raise ArchError('malformed candidate: expected {"arch": {...}, "recipe": {...}}')
        return {"arch": self.arch_space.validate(cand["arch"]),
                "recipe": self.recipes.validate(cand["recipe"])}

    def arch_id(self, cand: dict) -> str:
        return stable_hash(self.validate(cand))

    def cost(self, cand: dict) -> Any:
        return self.arch_space.cost(cand["arch"])

    @property
    def arch_encoding_size(self) -> int:
        return len(self.genes.free)

    def encode_arch(self, arch: dict) -> list[float]:
        """Min-max normalised free arch genes (the predictor encoder's input)."""
        return self.genes.encode(self.arch_space.validate(arch))

    def encode_recipe(self, recipe: dict) -> list[float]:
        return self.recipes.encode(recipe)

    def encode(self, cand: dict) -> list[float]:
        """``encode_arch(arch) + encode_recipe(recipe)``."""
        c = self.validate(cand)
        return self.encode_arch(c["arch"]) + self.encode_recipe(c["recipe"])

    def features(self, cand: dict) -> list[float]:
        """Same as :meth:`encode` (random-forest baseline features)."""
        return self.encode(cand)

    def decode(self, vec: Sequence[float]) -> dict[str, Any]:
        n = self.arch_encoding_size
        return {"arch": self.arch_space.validate(self.genes.decode(vec[:n])),
                "recipe": self.recipes.decode(vec[n:])}

    # --- sampling -------------------------------------------------------------------------
    @property
    def n_unit_dims(self) -> int:
        n = 0 if self.fixed_arch is not None else len(self.genes.free)
        return n + (0 if self.fixed_recipe is not None else self.recipes.n_unit_dims)

    def from_unit(self, u: Sequence[float]) -> dict[str, Any]:
        """A candidate from a point of the unit cube (Sobol pools)."""
        u = list(u)
        if self.fixed_arch is not None:
            arch = copy.deepcopy(self.fixed_arch)
        else:
            n = len(self.genes.free)
            arch, u = self.genes.from_unit(u[:n]), u[n:]
        recipe = (dict(self.fixed_recipe) if self.fixed_recipe is not None
                  else self.recipes.from_unit(u))
        return {"arch": self.arch_space.validate(arch), "recipe": recipe}

    def sample(self, rng: random.Random) -> dict[str, Any]:
        return self.from_unit([rng.random() for _ in range(self.n_unit_dims)])

    def mutate(self, cand: dict, rng: random.Random, prob: float) -> dict[str, Any]:
        c = self.validate(cand)
        if self.fixed_arch is None:
            c["arch"] = self.arch_space.mutate(c["arch"], rng, prob)
        if self.fixed_recipe is None:
            c["recipe"] = self.recipes.mutate(c["recipe"], rng, prob)
        return c

    def crossover(self, a: dict, b: dict, rng: random.Random) -> dict[str, Any]:
        a, b = self.validate(a), self.validate(b)
        arch = a["arch"] if self.fixed_arch is not None else \
            self.arch_space.crossover(a["arch"], b["arch"], rng)
        recipe = a["recipe"] if self.fixed_recipe is not None else \
            self.recipes.crossover(a["recipe"], b["recipe"], rng)
        return {"arch": arch, "recipe": recipe}


class SeededSpace:
    """A space wrapper whose :meth:`sample` first returns given candidates, then random ones.

    The fine stage starts evolution from the best coarse candidates: the evolution loop fills
    its initial population with ``space.sample``, so this wrapper hands it those first.
    """

    def __init__(self, space: Any, seeds: list[dict]) -> None:
        self.space = space
        self._queue = [copy.deepcopy(s) for s in seeds]

    def sample(self, rng: random.Random) -> dict:
        if self._queue:
            return self._queue.pop(0)
        return self.space.sample(rng)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.space, name)
