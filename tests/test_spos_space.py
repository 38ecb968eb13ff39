"""Tests of the SPOS search space, its standalone nets and its supernet (nasrepro.spaces.spos)."""

from __future__ import annotations

import json
import random

import pytest
import torch

from nasrepro.errors import ArchError, ConfigError, UnknownNameError
from nasrepro.metrics import count_params, measure
from nasrepro.spaces import get_space, list_spaces
from nasrepro.supernets.shufflenet_blocks import SlicedConv2d, channel_split

# official search result (SinglePathOneShot README: 323M FLOPs, 3.5M params)
SEARCHED = {"blocks": [2, 1, 0, 1, 2, 0, 2, 0, 2, 0, 2, 3, 0, 0, 0, 0, 3, 2, 3, 3]}
# released block + channel model (ShuffleNet-Series OneShot README: 328M FLOPs, 3.4M params)
RELEASED = {
    "blocks": [0, 0, 3, 1, 1, 1, 0, 0, 2, 0, 2, 1, 1, 0, 2, 0, 2, 1, 3, 2],
    "channels": [6, 5, 3, 5, 2, 6, 3, 4, 2, 5, 7, 5, 4, 6, 7, 4, 4, 5, 4, 3],
}


@pytest.fixture(scope="module")
def imagenet():
    return get_space("spos/imagenet")


# --- presets and reference archs -------------------------------------------------------------
def test_presets_registered() -> None:
    assert {"imagenet", "cifar10", "small", "tiny"} <= set(list_spaces()["spos"])
    assert get_space("spos/imagenet").input_shape == (3, 224, 224)
    assert get_space("spos/cifar10").input_shape == (3, 32, 32)
    assert get_space("spos/small").input_shape == (1, 28, 28)
    assert get_space("spos/tiny").input_shape == (1, 8, 8)
    assert get_space("spos/imagenet").num_layers == 20


def test_unknown_preset_and_bad_settings() -> None:
    with pytest.raises(UnknownNameError, match="preset"):
        get_space("spos/nope")
    with pytest.raises(ConfigError, match="unknown setting"):
        get_space("spos/tiny", widht=3)
    with pytest.raises(ConfigError, match="even"):
        get_space("spos/tiny", stage_out_channels=[16, 32, 48, 65])
    with pytest.raises(ConfigError, match="fixed_block"):
        get_space("spos/tiny", fixed_block=4)


def test_imagenet_geometry_matches_official(imagenet) -> None:
    layers = imagenet.layers
    assert [(s.inp, s.oup, s.stride) for s in layers[:6]] == [
        (16, 64, 2), (32, 64, 1), (32, 64, 1), (32, 64, 1), (64, 160, 2), (80, 160, 1)]
    assert [s.in_size for s in layers if s.stride == 2] == [112, 56, 28, 14]
    assert layers[-1].out_size == 7
    # per-layer MACs of layer 1 and 2 equal the official op_flops_dict lookup table
    assert imagenet._macs_table[0] and [imagenet._macs_table[0][b][4] for b in range(4)] == [
        13396992, 15805440, 19418112, 13146112]
    assert [imagenet._macs_table[1][b][4] for b in range(4)] == [
        7325696, 8931328, 11339776, 12343296]


def test_reference_archs_cost(imagenet) -> None:
    searched = imagenet.cost(SEARCHED)
    assert searched.macs == 322_918_720
    assert abs(searched.macs / 1e6 - 323) < 1
    # 3,558,464 params incl. affine BN (29,152 of them). The README's "3.5M" is this count
    # truncated (or the count without BN, 3.53M); the official code never prints params.
    assert searched.params == 3_558_464
    assert int(searched.params / 1e5) / 10 == 3.5
    released = imagenet.cost(RELEASED)
    assert released.macs == 327_857_920
    assert abs(released.macs / 1e6 - 328) < 1
    assert released.params == 3_432_579
    assert round(released.params / 1e6, 1) == 3.4


def test_cost_matches_flop_counter_imagenet(imagenet) -> None:
    model = imagenet.build(RELEASED)
    assert measure(model, imagenet.input_shape) == imagenet.cost(RELEASED)
    assert count_params(model) == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("preset", ["cifar10", "small", "tiny"])
def test_cost_matches_flop_counter(preset: str) -> None:
    space = get_space(f"spos/{preset}", search_channels=True)
    rng = random.Random(1)
    archs = [space.sample(rng) for _ in range(1 if preset == "cifar10" else 3)]
    if preset != "cifar10":
        archs += [{"blocks": [b] * space.num_layers} for b in range(4)]
    for arch in archs:
        model = space.build(arch)
        cost = space.cost(arch)
        assert measure(model, space.input_shape) == cost
        assert cost.params == sum(p.numel() for p in model.parameters())
        lo, hi = space.macs_range()
        assert lo <= cost.macs <= hi


def test_macs_range_respects_flags() -> None:
    space = get_space("spos/tiny", search_blocks=False, fixed_block=2)
    lo, hi = space.macs_range()
    assert lo == hi == space.cost({"blocks": [2] * space.num_layers}).macs
    wide = get_space("spos/tiny", search_channels=True).macs_range()
    narrow = get_space("spos/tiny").macs_range()
    assert wide[0] < narrow[0] < narrow[1] < wide[1]


# --- encoding --------------------------------------------------------------------------------
def test_validate_canonical_form(imagenet) -> None:
    canon = imagenet.validate(SEARCHED)
    assert canon == {"blocks": SEARCHED["blocks"], "channels": [4] * 20}
    assert imagenet.validate({"blocks": tuple(SEARCHED["blocks"])}) == canon
    assert imagenet.validate(json.dumps(SEARCHED)) == canon
    assert imagenet.arch_id(SEARCHED) == imagenet.arch_id(canon)
    assert imagenet.arch_id(SEARCHED) != imagenet.arch_id(RELEASED)


@pytest.mark.parametrize("bad", [
    [0] * 20,
    "{not json",
    {"channels": [4] * 20},
    {"blocks": [0] * 20, "width": 1},
    {"blocks": [0] * 19},
    {"blocks": [0] * 19 + [4]},
    {"blocks": [0] * 19 + [-1]},
    {"blocks": [0] * 19 + [1.5]},
    {"blocks": [0] * 19 + ["1"]},
    {"blocks": [0] * 19 + [True]},
    {"blocks": 3},
    {"blocks": [0] * 20, "channels": [4] * 21},
    {"blocks": [0] * 20, "channels": [4] * 19 + [8]},
])
def test_malformed_archs_raise(imagenet, bad) -> None:
    with pytest.raises(ArchError) as info:
        imagenet.validate(bad)
    msg = str(info.value)
    assert "\n" not in msg and "expected" in msg and '"blocks"' in msg


def test_features(imagenet) -> None:
    f = imagenet.features(RELEASED)
    assert len(f) == 5 * 20
    assert f[:8] == [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    assert sum(f[:80]) == 20
    assert f[80:83] == [1.4, 1.2, 0.8]


# --- sampling and variation ------------------------------------------------------------------
def test_sample_mutate_crossover_deterministic(imagenet) -> None:
    def run(seed: int) -> list:
        rng = random.Random(seed)
        a, b = imagenet.sample(rng), imagenet.sample(rng)
        return [a, b, imagenet.mutate(a, rng, 0.3), imagenet.crossover(a, b, rng)]

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_search_flags_are_respected() -> None:
    rng = random.Random(0)
    blocks_only = get_space("spos/imagenet")
    channels_only = get_space("spos/imagenet", search_blocks=False, search_channels=True,
                              fixed_block=3)
    for _ in range(20):
        a = blocks_only.sample(rng)
        assert a["channels"] == [4] * 20
        assert blocks_only.mutate(a, rng, 1.0)["channels"] == [4] * 20
        c = channels_only.sample(rng)
        assert c["blocks"] == [3] * 20
        assert channels_only.mutate(c, rng, 1.0)["blocks"] == [3] * 20
    d = channels_only.crossover(c, channels_only.sample(rng), rng)
    assert d["blocks"] == [3] * 20
    seen = {ch for _ in range(10) for ch in channels_only.sample(rng)["channels"]}
    assert seen == set(range(8))


def test_mutation_rates(imagenet) -> None:
    rng = random.Random(0)
    archs = [imagenet.sample(rng) for _ in range(200)]
    assert all(imagenet.mutate(a, rng, 0.0) == imagenet.validate(a) for a in archs)
    changed = sum(x != y for a in archs
                  for x, y in zip(a["blocks"], imagenet.mutate(a, rng, 1.0)["blocks"],
                                  strict=True))
    assert 0.70 < changed / (200 * 20) < 0.80  # a redraw keeps the gene 1/4 of the time


def test_crossover_takes_genes_from_parents(imagenet) -> None:
    rng = random.Random(0)
    a, b = {"blocks": [0] * 20}, {"blocks": [1] * 20}
    kids = [imagenet.crossover(a, b, rng)["blocks"] for _ in range(100)]
    genes = [g for k in kids for g in k]
    assert set(genes) == {0, 1}
    assert 0.4 < sum(genes) / len(genes) < 0.6


# --- networks --------------------------------------------------------------------------------
def test_channel_split_is_official_channel_shuffle() -> None:
    x = torch.arange(2 * 8 * 3 * 3, dtype=torch.float32).reshape(2, 8, 3, 3)
    b, c, h, w = x.shape
    y = x.reshape(b * c // 2, 2, h * w).permute(1, 0, 2).reshape(2, -1, c // 2, h, w)
    even, odd = channel_split(x)
    assert torch.equal(even, y[0]) and torch.equal(odd, y[1])


def test_build_is_deterministic_and_shapes(imagenet) -> None:
    space = get_space("spos/tiny")
    arch = {"blocks": [0, 1, 2, 3, 0]}
    m1 = space.build(arch, generator=torch.Generator().manual_seed(3))
    m2 = space.build(arch, generator=torch.Generator().manual_seed(3))
    for (k1, v1), (k2, v2) in zip(m1.state_dict().items(), m2.state_dict().items(), strict=True):
        assert k1 == k2 and torch.equal(v1, v2)
    assert m1(torch.randn(4, 1, 8, 8)).shape == (4, 10)
    big = imagenet.build(SEARCHED).eval()
    with torch.no_grad():
        assert big(torch.randn(1, 3, 224, 224)).shape == (1, 1000)
    # BN of the standalone net is affine; the classifier has no bias
    assert big.first_conv[1].affine and big.classifier[0].bias is None


def test_supernet_forward_shapes_and_affine(imagenet) -> None:
    supernet = imagenet.build_supernet().eval()
    with torch.no_grad():
        out = supernet(torch.randn(1, 3, 224, 224), SEARCHED)
    assert out.shape == (1, 1000)
    assert len(supernet.features) == 20 and all(len(layer) == 4 for layer in supernet.features)
    bns = [m for m in supernet.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and not any(m.affine for m in bns)
    with pytest.raises(ArchError, match="search_channels"):
        supernet(torch.randn(1, 3, 224, 224), RELEASED)  # scale 1.6 not allocated
    small = get_space("spos/small", search_channels=True).build_supernet()
    assert small(torch.randn(2, 1, 28, 28), {"blocks": [3] * 10}).shape == (2, 10)


def test_supernet_runs_only_the_chosen_path() -> None:
    space = get_space("spos/tiny", search_channels=True)
    supernet = space.build_supernet()
    arch = {"blocks": [0, 3, 2, 1, 3], "channels": [0, 7, 2, 4, 1]}
    mids = space.mid_channels(arch)
    calls: list[tuple[int, int]] = []
    widths: list[tuple[int, int]] = []
    for i, layer in enumerate(supernet.features):
        for b, block in enumerate(layer):
            block.register_forward_hook(lambda m, inp, out, i=i, b=b: calls.append((i, b)))
            for conv in block.modules():
                if isinstance(conv, SlicedConv2d) and conv.sliced_out:
                    conv.register_forward_hook(
                        lambda m, inp, out, i=i: widths.append((i, out.shape[1])))
    supernet(torch.randn(3, 1, 8, 8), arch)
    assert calls == list(enumerate(arch["blocks"]))
    assert widths and all(w == mids[i] for i, w in widths)
    # no unused channel is computed: the supernet path costs what the standalone net costs
    cost = measure(supernet, space.input_shape, forward=lambda m, x: m(x, arch))
    assert cost.macs == space.cost(arch).macs


def test_sliced_bn_updates_only_its_channels() -> None:
    space = get_space("spos/tiny", search_channels=True)
    supernet = space.build_supernet().train()
    arch = {"blocks": [0] * 5, "channels": [0] * 5}
    bn = supernet.features[0][0].branch_main[1]
    k = space.mid_channels(arch)[0]
    assert k < bn.num_features
    supernet(torch.randn(4, 1, 8, 8), arch)
    assert (bn.running_mean[:k] != 0).all()
    assert (bn.running_mean[k:] == 0).all() and (bn.running_var[k:] == 1).all()


@pytest.mark.parametrize("preset", ["tiny", "small"])
def test_extracted_subnet_matches_supernet_path(preset: str) -> None:
    torch.manual_seed(0)
    space = get_space(f"spos/{preset}", search_channels=True)
    supernet = space.build_supernet(generator=torch.Generator().manual_seed(0))
    rng = random.Random(0)
    archs = [space.sample(rng) for _ in range(3)]
    supernet.train()
    with torch.no_grad():  # give every BN non-trivial running stats
        for arch in archs * 2:
            supernet(torch.randn(8, *space.input_shape), arch)
    supernet.eval()
    x = torch.randn(4, *space.input_shape)
    for arch in archs:
        sub = space.extract_subnet(supernet, arch)
        assert not sub.training
        assert sum(p.numel() for p in sub.parameters()) == space.cost(arch).params
        with torch.no_grad():
            torch.testing.assert_close(sub(x), supernet(x, arch), atol=1e-5, rtol=1e-5)
