"""The ``fbnetv3`` space: imagenet preset, FBNetV3-A..G params and MACs (official builder and
published), official blocks and SE, the small presets."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import nasrepro.spaces.fbnetv3  # noqa: F401  (registers the space until base.py imports it)
from nasrepro.errors import ArchError
from nasrepro.metrics import measure
from nasrepro.spaces.base import get_space
from nasrepro.spaces.fbnetv3_archs import (
    FBNETV3_ARCHS,
    PUBLISHED_MFLOPS,
    PUBLISHED_MPARAMS,
    fbnetv3_arch,
)
from nasrepro.supernets.mobilenet import get_divisible_by, se_channels
from tests.conftest import REPO

#: (params, MACs) of FBNetV3-A..G as the official builder makes them. Source: the official
#: code of facebookresearch/mobile-vision (commit bb8465c), ``mobile_cv/arch/fbnet_v2/``:
#: ``fbnet_builder.FBNetBuilder`` with each ``MODEL_ARCH_FBNETV3["FBNetV3_X"]`` of
#: ``fbnet_modeldef_cls_fbnetv3.py`` (``basic_args``, ``build_blocks(..., dim_in=3)``) and the
#: ``model_zoo/models/fbnet_v2.py`` ``ClsConvHead`` (pool + ``nn.Conv2d(1984, 1000, 1)``);
#: params = ``sum(p.numel())``, MACs = ``FlopCounterMode`` total / 2 on one image at the
#: def's ``input_size``. The same numbers come from an independent count of the arch defs by
#: the builder's rules (``IRFBlock`` mid ``get_divisible_by(c_in * e, 8)``, SE
#: ``get_divisible_by(int(mid * 0.25 / e), 8)`` with bias and h-swish inside, stem conv with
#: bias, ``IRPoolBlock`` head 1x1 to ``6 c`` + BN, pool, 1x1 to 1984 without BN or bias).
BUILDER_COUNTS: dict[str, tuple[int, int]] = {
    "a": (8_598_480, 355_514_328),
    "b": (8_598_480, 460_150_000),
    "c": (9_973_816, 555_578_368),
    "d": (10_306_296, 642_628_864),
    "e": (10_772_896, 759_952_160),
    "f": (13_896_160, 1_178_860_656),
    "g": (16_623_920, 2_125_187_200),
}
#: the published MFLOPs (paper Table 3) sit 0.2-0.4 % above the builder's conv + linear MACs
#: (the official FLOP counter counts a little more); they are rounded to 1M.
TOLERANCE = 0.005


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Small convs: one thread is as fast and immune to CPU contention on a shared machine."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.mark.parametrize("name", sorted(FBNETV3_ARCHS))
def test_reference_archs_have_the_official_builder_counts(name: str) -> None:
    cost = get_space("fbnetv3/imagenet").cost(fbnetv3_arch(name))
    assert (cost.params, cost.macs) == BUILDER_COUNTS[name]


@pytest.mark.parametrize("name", sorted(FBNETV3_ARCHS))
def test_reference_archs_have_the_published_macs_and_params(name: str) -> None:
    space = get_space("fbnetv3/imagenet")
    cost = space.cost(fbnetv3_arch(name))
    assert cost.macs / 1e6 == pytest.approx(PUBLISHED_MFLOPS[name], rel=TOLERANCE)
    assert cost.macs / 1e6 < PUBLISHED_MFLOPS[name]
    assert round(cost.params / 1e6, 1) == PUBLISHED_MPARAMS[name]  # published to 0.1M


def test_se_width_from_the_block_input() -> None:
    """Official ``IRFBlock`` ``less_se_channels``: ``get_divisible_by(int(mid * 0.25 / e), 8)``
    (FBNetV3-A: e.g. 24 -> 120 (e 5) gives SE 8, 40 -> 120 (e 3) gives 16), vs AttentiveNAS's
    ``make_divisible(mid // 4, 8)`` (32 for both)."""
    assert se_channels(120, 5, from_input=True) == 8
    assert se_channels(120, 3, from_input=True) == 16
    assert se_channels(1104, 6, from_input=True) == 48  # 184 * 6
    assert se_channels(120) == se_channels(120, 5) == 32  # default ignores the expand ratio
    # official helper get_divisible_by: nearest multiple (halves up), +8 below 0.95x, min 8
    assert [get_divisible_by(v, 8) for v in (6, 9, 12, 20, 36, 44, 48)] == [
        8, 16, 16, 24, 40, 48, 48]
    space = get_space("fbnetv3/imagenet")
    assert space.cfg.se_from_input and space.cfg.stem_bias and space.cfg.se_act == "h_swish"
    # every SE of FBNetV3-A, as in the official net built by mobile-vision (SEModule widths)
    plan = space.plan(fbnetv3_arch("a"))
    assert [b.se_mid for b in plan.blocks if b.se_mid] == [8] + [16] * 4 + [24] + [32] * 6 + [
        48] * 6


def test_cli_cost_of_fbnetv3_a_and_b() -> None:
    for name in ("a", "b"):
        out = subprocess.run(
            [sys.executable, "-m", "nasrepro.cli", "cost", "fbnetv3/imagenet",
             json.dumps(FBNETV3_ARCHS[name])], cwd=REPO, capture_output=True, text=True,
            check=True, timeout=120)
        cost = json.loads(out.stdout)
        assert (cost["params"], cost["macs"]) == BUILDER_COUNTS[name]


def test_built_net_matches_analytic_cost_with_shrunk_maps() -> None:
    space = get_space("fbnetv3/imagenet")
    arch = fbnetv3_arch("a")
    net = space.build(arch).eval()
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        out = net(torch.randn(1, 3, 224, 224))
    assert out.shape == (1, 1000)
    cost = space.cost(arch)
    assert fc.get_total_flops() == 2 * cost.macs
    assert sum(p.numel() for p in net.parameters()) == cost.params
    # the official SE (h-swish inside, h-sigmoid gate, width from the input) and stem bias
    se = next(b.se for b in net.blocks if b.se is not None)  # 24 -> 120 channels (e 5): SE 8
    assert (se.reduce.in_channels, se.reduce.out_channels) == (120, 8)
    assert isinstance(se.act, torch.nn.Hardswish) and isinstance(se.h_sigmoid,
                                                                  torch.nn.Hardsigmoid)
    assert net.first_conv.conv.bias is not None
    # without the official padding tweaks the maps are larger and the net costs more
    plain = {k: v for k, v in arch.items() if k != "shrink_stages"}
    assert space.cost(plain).macs > cost.macs * 1.1


def test_shrink_stages_validation_and_canonical_form() -> None:
    space = get_space("fbnetv3/imagenet")
    arch = fbnetv3_arch("a")
    assert space.validate({**arch, "shrink_stages": [9, 5]})["shrink_stages"] == [5, 9]
    assert "shrink_stages" not in space.validate({**arch, "shrink_stages": []})
    with pytest.raises(ArchError):
        space.validate({**arch, "shrink_stages": [2]})  # stage 2 has stride 1
    with pytest.raises(ArchError):
        space.validate({**arch, "shrink_stages": "5"})


#: what the fbnetv3 small presets change in the mobilenet ones (official FBNetV3 SE and stem)
FBNET_SETTINGS = {"se_from_input": True, "se_act": "swish", "stem_bias": True}


@pytest.mark.parametrize("preset", ["tiny", "small"])
def test_small_presets_are_mobilenet_with_the_fbnetv3_se_and_stem(preset: str) -> None:
    fb, mb = get_space(f"fbnetv3/{preset}"), get_space(f"mobilenet/{preset}")
    same = get_space(f"mobilenet/{preset}", **FBNET_SETTINGS)
    rng = random.Random(0)
    for a in [mb.max_arch()] + [mb.sample(rng) for _ in range(4)]:
        assert fb.cost(a) == same.cost(a)
        assert fb.cost(a).params < mb.cost(a).params  # narrower SE, despite the stem bias


def test_fbnetv3_tiny_nets_cost_what_they_count_and_supernet_paths_extract() -> None:
    """Built nets match the analytic cost (``FlopCounterMode``, params); the supernet allocates
    the widest from-input SE and extracted subnets compute its paths."""
    torch.manual_seed(0)
    space = get_space("fbnetv3/tiny")
    supernet = space.build_supernet(generator=torch.Generator().manual_seed(0))
    assert supernet.first_conv.conv.bias is not None
    rng = random.Random(1)
    archs = [space.min_arch(), space.max_arch()] + [space.sample(rng) for _ in range(3)]
    supernet.train()
    with torch.no_grad():  # non-trivial BN running stats
        for arch in archs:
            supernet(torch.randn(8, *space.input_shape), arch)
    supernet.eval()
    x = torch.randn(2, *space.input_shape)
    for arch in archs:
        cost = space.cost(arch)
        assert measure(space.build(arch), space.arch_input_shape(arch)) == cost
        sub = space.extract_subnet(supernet, arch)
        assert sum(p.numel() for p in sub.parameters()) == cost.params
        with torch.no_grad():
            torch.testing.assert_close(sub(x), supernet(x, arch), atol=1e-5, rtol=1e-5)
