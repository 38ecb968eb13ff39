"""Tests of the elastic MobileNet space (nasrepro.spaces.mobilenet), its networks
(nasrepro.supernets.mobilenet), the AttentiveNAS reference archs and the MACs prior."""

from __future__ import annotations

import json
import random

import pytest
import torch
import torch.nn.functional as F

import nasrepro.spaces.mobilenet  # noqa: F401  (registers the space)
from nasrepro.errors import ArchError, ConfigError, UnknownNameError
from nasrepro.metrics import count_params, measure
from nasrepro.spaces import get_space, list_spaces
from nasrepro.spaces.macs_prior import macs_histogram, sample_in_macs_range
from nasrepro.spaces.mobilenet_archs import (
    ATTENTIVENAS_ARCHS,
    PUBLISHED_MFLOPS,
    attentivenas_arch,
)
from nasrepro.supernets.mobilenet import make_divisible, mid_channels, se_channels

# analytic MACs / params of AttentiveNAS-A0..A6 (README: 203, 279, 317, 357, 444, 491, 709)
A_MACS = {"a0": 203_389_568, "a1": 279_238_816, "a2": 316_730_080, "a3": 356_518_400,
          "a4": 443_530_752, "a5": 490_520_064, "a6": 709_007_232}
A_PARAMS = {"a0": 8_954_184, "a1": 9_452_872, "a2": 11_149_824, "a3": 12_784_928,
            "a4": 11_809_640, "a5": 12_597_464, "a6": 15_154_792}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny convs: one thread is as fast and immune to CPU contention on a shared machine."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def imagenet():
    return get_space("mobilenet/attentivenas")


@pytest.fixture(scope="module")
def tiny():
    return get_space("mobilenet/tiny")


def _randomize_bn(model: torch.nn.Module, seed: int) -> None:
    """Non-trivial BN affine params (the init zeroes the last BN weight of every block)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)


# --- presets and reference archs -------------------------------------------------------------
def test_presets_registered() -> None:
    assert {"attentivenas", "small", "tiny"} <= set(list_spaces()["mobilenet"])
    assert get_space("mobilenet/attentivenas").input_shape == (3, 288, 288)
    assert get_space("mobilenet/small").input_shape == (1, 28, 28)
    assert get_space("mobilenet/tiny").input_shape == (1, 8, 8)


def test_official_candidates(imagenet) -> None:
    c = imagenet.candidates
    assert c["resolution"] == [192, 224, 256, 288]
    assert c["width"] == [[16, 24], [16, 24], [24, 32], [32, 40], [64, 72], [112, 120, 128],
                          [192, 200, 208, 216], [216, 224], [1792, 1984]]
    assert c["depth"] == [[1, 2], [3, 4, 5], [3, 4, 5, 6], [3, 4, 5, 6], [3, 4, 5, 6, 7, 8],
                          [3, 4, 5, 6, 7, 8], [1, 2]]
    assert c["kernel_size"] == [[3, 5]] * 7
    assert c["expand_ratio"] == [[1], [4, 5, 6], [4, 5, 6], [4, 5, 6], [4, 5, 6], [6], [6]]
    assert [s.se for s in imagenet.cfg.stages] == [False, False, True, False, True, True, True]
    assert [s.stride for s in imagenet.cfg.stages] == [1, 2, 2, 2, 1, 2, 1]


def test_make_divisible_and_mid_channels() -> None:
    assert make_divisible(144) == 144 and make_divisible(100) == 104
    assert make_divisible(3) == 9  # official quirk: min_value 1, then +8 when < 90 %
    assert make_divisible(36) == 40 and make_divisible(12) == 16
    assert mid_channels(24, 5) == 120 and mid_channels(40, 6) == 240 and mid_channels(20, 3) == 64
    assert mid_channels(17, 1) == 17  # t == 1: no inverted bottleneck, dw runs on the input
    assert se_channels(96) == 24 and se_channels(120) == 32 and se_channels(1344) == 336


@pytest.mark.parametrize("name", sorted(ATTENTIVENAS_ARCHS))
def test_attentivenas_reference_macs(imagenet, name: str) -> None:
    cost = imagenet.cost(attentivenas_arch(name))
    assert cost.macs == A_MACS[name]
    assert cost.params == A_PARAMS[name]
    # the published MFLOPs are these MACs rounded to millions
    assert round(cost.macs / 1e6) == PUBLISHED_MFLOPS[name]
    assert abs(cost.macs / 1e6 / PUBLISHED_MFLOPS[name] - 1) < 0.02


def test_a0_is_min_subnet(imagenet) -> None:
    assert imagenet.validate(imagenet.min_arch()) == ATTENTIVENAS_ARCHS["a0"]
    lo, hi = imagenet.macs_range()
    assert lo == A_MACS["a0"] and hi == imagenet.cost(imagenet.max_arch()).macs > A_MACS["a6"]
    with pytest.raises(UnknownNameError, match="a0"):
        attentivenas_arch("a7")
    assert attentivenas_arch("AttentiveNAS-A3") == ATTENTIVENAS_ARCHS["a3"]


def test_cost_matches_flop_counter_imagenet(imagenet) -> None:
    arch = attentivenas_arch("a0")
    model = imagenet.build(arch)
    assert measure(model, imagenet.arch_input_shape(arch)) == imagenet.cost(arch)
    # the resize to the arch's resolution is free: same MACs from the max-size input
    assert measure(model, imagenet.input_shape).macs == A_MACS["a0"]
    head = model.feature_mix_layer
    assert head.bn is None and model.final_expand_layer.bn is not None
    assert model.final_expand_layer.conv.out_channels == 6 * 216
    assert model.classifier.bias is not None and model.first_conv.bn.affine
    # AttentiveNAS: no stem bias, ReLU inside the SE, SE width a quarter of the expanded width
    assert model.first_conv.conv.bias is None
    se = next(b.se for b in model.blocks if b.se is not None)
    assert isinstance(se.act, torch.nn.ReLU)
    assert se.reduce.out_channels == se_channels(se.reduce.in_channels)


def test_supernet_matches_extracted_subnet_imagenet(imagenet) -> None:
    supernet = imagenet.build_supernet(generator=torch.Generator().manual_seed(0))
    _randomize_bn(supernet, 1)
    supernet.eval()
    arch = attentivenas_arch("a1")
    sub = imagenet.extract_subnet(supernet, arch)
    x = torch.randn(1, *imagenet.arch_input_shape(arch))
    with torch.no_grad():
        torch.testing.assert_close(sub(x), supernet(x, arch), atol=1e-5, rtol=1e-5)
    assert count_params(sub) == A_PARAMS["a1"]


@pytest.mark.parametrize("preset", ["small", "tiny"])
def test_cost_matches_flop_counter(preset: str) -> None:
    space = get_space(f"mobilenet/{preset}")
    rng = random.Random(1)
    archs = [space.min_arch(), space.max_arch()] + [space.sample(rng) for _ in range(4)]
    for arch in archs:
        model = space.build(arch)
        cost = space.cost(arch)
        assert measure(model, space.arch_input_shape(arch)) == cost
        assert cost.params == sum(p.numel() for p in model.parameters())
        lo, hi = space.macs_range()
        assert lo <= cost.macs <= hi


def test_supernet_path_costs_what_the_subnet_costs(tiny) -> None:
    supernet = tiny.build_supernet()
    rng = random.Random(2)
    for arch in [tiny.min_arch(), tiny.max_arch(), tiny.sample(rng), tiny.sample(rng)]:
        cost = measure(supernet, tiny.input_shape, forward=lambda m, x, a=arch: m(x, a))
        assert cost.macs == tiny.cost(arch).macs


# --- encoding --------------------------------------------------------------------------------
def test_validate_canonical_form(imagenet) -> None:
    a1 = ATTENTIVENAS_ARCHS["a1"]
    shuffled = {k: tuple(v) if isinstance(v, list) else v for k, v in reversed(a1.items())}
    canon = imagenet.validate(shuffled)
    assert canon == a1 and list(canon) == ["resolution", "width", "depth", "kernel_size",
                                           "expand_ratio"]
    assert imagenet.validate(json.dumps(a1)) == a1
    floats = dict(a1, expand_ratio=[float(t) for t in a1["expand_ratio"]])
    assert imagenet.validate(floats)["expand_ratio"] == a1["expand_ratio"]
    assert all(type(t) is int for t in imagenet.validate(floats)["expand_ratio"])
    assert imagenet.arch_id(shuffled) == imagenet.arch_id(a1) != imagenet.arch_id(
        ATTENTIVENAS_ARCHS["a2"])


def _with(arch: dict, **changes) -> dict:
    out = json.loads(json.dumps(arch))
    out.update(changes)
    return out


A0 = ATTENTIVENAS_ARCHS["a0"]


@pytest.mark.parametrize("bad", [
    [192],
    "{not json",
    {k: v for k, v in A0.items() if k != "depth"},
    _with(A0, extra=1),
    _with(A0, resolution=200),
    _with(A0, resolution=True),
    _with(A0, resolution="192"),
    _with(A0, width=A0["width"][:8]),
    _with(A0, width=[24, 16, 24, 32, 64, 112, 192, 216, 2000]),
    _with(A0, width=3),
    _with(A0, depth=[1, 3, 3, 3, 3, 3, 3]),
    _with(A0, depth=[1, 3, 3, 3, 3, 3, 1.5]),
    _with(A0, kernel_size=[3, 3, 3, 3, 3, 3, 7]),
    _with(A0, kernel_size=[3, 3, 3, 3, 3, 3, None]),
    _with(A0, expand_ratio=[4, 4, 4, 4, 4, 6, 6]),
    _with(A0, expand_ratio=[1, 4, 4, 4, 4, 6, True]),
])
def test_malformed_archs_raise(imagenet, bad) -> None:
    with pytest.raises(ArchError) as info:
        imagenet.validate(bad)
    msg = str(info.value)
    assert "\n" not in msg and "expected" in msg and '"resolution"' in msg


def test_features(imagenet) -> None:
    f = imagenet.features(ATTENTIVENAS_ARCHS["a5"])
    assert len(f) == 31 and all(isinstance(v, float) for v in f)
    assert f[0] == 256.0
    assert f[1:10] == [16, 16, 24, 32, 72, 112, 192, 216, 1792]
    assert f[10:17] == [1, 3, 3, 3, 4, 6, 1]
    assert f[17:24] == [3, 3, 3, 5, 3, 3, 3]
    assert f[24:31] == [1, 4, 5, 4, 4, 6, 6]


def test_bad_settings() -> None:
    with pytest.raises(UnknownNameError, match="preset"):
        get_space("mobilenet/nope")
    with pytest.raises(ConfigError, match="unknown setting"):
        get_space("mobilenet/tiny", widht=3)
    with pytest.raises(ConfigError, match="stride"):
        get_space("mobilenet/tiny", first_conv={"c": [8], "s": 3})
    with pytest.raises(ConfigError, match="odd"):
        bad = json.loads(json.dumps(get_space("mobilenet/tiny").settings["stages"]))
        bad[0]["k"] = [3, 4]
        get_space("mobilenet/tiny", stages=bad)
    with pytest.raises(ConfigError, match="act"):
        get_space("mobilenet/tiny", act="gelu")
    with pytest.raises(ConfigError, match="se_act"):
        get_space("mobilenet/tiny", se_act="sigmoid")
    for key in ("se_from_input", "stem_bias"):
        with pytest.raises(ConfigError, match=key):
            get_space("mobilenet/tiny", **{key: 1})
    space = get_space("mobilenet/tiny", num_classes=3)
    assert space.build(space.min_arch())(torch.randn(2, 1, 8, 8)).shape == (2, 3)


# --- sampling and variation ------------------------------------------------------------------
def test_sample_mutate_crossover_deterministic_and_valid(imagenet) -> None:
    def run(seed: int) -> list:
        rng = random.Random(seed)
        a, b = imagenet.sample(rng), imagenet.sample(rng)
        return [a, b, imagenet.mutate(a, rng, 0.3), imagenet.crossover(a, b, rng)]

    out = run(7)
    assert out == run(7) and out != run(8)
    for arch in out:
        assert imagenet.validate(arch) == arch


def test_sample_is_uniform_per_gene(imagenet) -> None:
    rng = random.Random(0)
    archs = [imagenet.sample(rng) for _ in range(600)]
    assert {a["resolution"] for a in archs} == {192, 224, 256, 288}
    widths6 = [a["width"][6] for a in archs]
    assert {w: widths6.count(w) for w in set(widths6)}.keys() == {192, 200, 208, 216}
    assert all(100 < widths6.count(w) < 200 for w in (192, 200, 208, 216))
    depth5 = [a["depth"][4] for a in archs]
    assert set(depth5) == set(range(3, 9))


def test_mutation_picks_another_choice(imagenet) -> None:
    rng = random.Random(0)
    a = imagenet.sample(rng)
    assert imagenet.mutate(a, rng, 0.0) == a
    m = imagenet.mutate(a, rng, 1.0)
    assert m["resolution"] != a["resolution"]
    for key in ("width", "depth", "kernel_size", "expand_ratio"):
        for i, (x, y) in enumerate(zip(a[key], m[key], strict=True)):
            single = len(imagenet.candidates[key][i]) == 1
            assert (x == y) if single else (x != y)
    assert imagenet.mutate(a, rng, 1.0, keep_resolution=True)["resolution"] == a["resolution"]


def test_crossover_takes_genes_from_parents(imagenet) -> None:
    rng = random.Random(0)
    lo, hi = imagenet.min_arch(), imagenet.max_arch()
    kids = [imagenet.crossover(lo, hi, rng) for _ in range(100)]
    for key in ("width", "depth"):
        genes = [(g == gl, g == gh) for k in kids
                 for g, gl, gh in zip(k[key], lo[key], hi[key], strict=True)]
        assert all(a or b for a, b in genes)
        assert 0.35 < sum(a for a, _ in genes) / len(genes) < 0.65


# --- networks --------------------------------------------------------------------------------
def test_build_structure_and_determinism(tiny) -> None:
    arch = tiny.max_arch()
    m1 = tiny.build(arch, generator=torch.Generator().manual_seed(3))
    m2 = tiny.build(arch, generator=torch.Generator().manual_seed(3))
    for (k1, v1), (k2, v2) in zip(m1.state_dict().items(), m2.state_dict().items(), strict=True):
        assert k1 == k2 and torch.equal(v1, v2)
    assert m1(torch.randn(4, 1, 8, 8)).shape == (4, 10)
    plan = tiny.plan(arch)
    for block, p in zip(m1.blocks, plan.blocks, strict=True):
        assert (block.shortcut is not None) == (p.c_in != p.c_out)
        assert (block.se is not None) == tiny.cfg.stages[p.stage].se
        assert (block.inverted_bottleneck is None) == (p.expand == 1)
        assert block.depth_conv.conv.kernel_size == (p.kernel, p.kernel)
        assert not block.point_linear.bn.weight.detach().any()  # zero-init last BN
    assert len(m1.blocks) == sum(arch["depth"])


def test_input_is_resized_to_the_arch_resolution(tiny) -> None:
    arch = _with(tiny.min_arch(), resolution=6)
    model = tiny.build(arch).eval()
    _randomize_bn(model, 0)
    x = torch.randn(3, 1, 8, 8)
    with torch.no_grad():
        small = F.interpolate(x, size=6, mode="bicubic")
        torch.testing.assert_close(model(x), model(small))


def test_kernels_are_centre_cropped(tiny) -> None:
    supernet = tiny.build_supernet()
    arch = _with(tiny.max_arch(), kernel_size=[3] * 7)
    sub = tiny.extract_subnet(supernet, arch)
    w_sup = supernet.blocks[0].depth_conv.conv.weight
    w_sub = sub.blocks[0].depth_conv.conv.weight
    assert w_sup.shape[-1] == 5 and w_sub.shape[-1] == 3
    assert torch.equal(w_sub, w_sup[:w_sub.shape[0], :, 1:4, 1:4])


def test_sliced_bn_updates_only_its_channels(tiny) -> None:
    supernet = tiny.build_supernet().train()
    arch = tiny.min_arch()
    bn = supernet.first_conv.bn
    k = arch["width"][0]
    assert k < bn.num_features
    supernet(torch.randn(4, 1, 8, 8), arch)
    assert (bn.running_mean[:k] != 0).all()
    assert (bn.running_mean[k:] == 0).all() and (bn.running_var[k:] == 1).all()


@pytest.mark.parametrize("preset", ["tiny", "small"])
def test_extracted_subnet_matches_supernet_path(preset: str) -> None:
    torch.manual_seed(0)
    space = get_space(f"mobilenet/{preset}")
    supernet = space.build_supernet(generator=torch.Generator().manual_seed(0))
    _randomize_bn(supernet, 1)
    rng = random.Random(0)
    archs = [space.min_arch(), space.max_arch()] + [space.sample(rng) for _ in range(2)]
    archs.append(_with(space.max_arch(), kernel_size=[3] * 7, resolution=space.cfg.resolutions[0]))
    supernet.train()
    with torch.no_grad():  # give every BN non-trivial running stats
        for arch in archs:
            supernet(torch.randn(8, *space.input_shape), arch)
    supernet.eval()
    x = torch.randn(4, *space.input_shape)
    for arch in archs:
        sub = space.extract_subnet(supernet, arch)
        assert not sub.training
        assert sum(p.numel() for p in sub.parameters()) == space.cost(arch).params
        with torch.no_grad():
            torch.testing.assert_close(sub(x), supernet(x, arch), atol=1e-5, rtol=1e-5)


def test_dropout_and_drop_connect_rates(tiny) -> None:
    supernet = tiny.build_supernet()
    supernet.set_dropout_rate(0.2, 0.2)
    last_two = set(sum(supernet.block_group_info[-2:], []))
    n = len(supernet.blocks)
    for i, block in enumerate(supernet.blocks):
        assert block.drop_connect_rate == (0.2 * i / n if i in last_two else 0.0)
    arch = tiny.max_arch()
    x = torch.randn(4, 1, 8, 8)
    supernet.eval()
    with torch.no_grad():
        y1 = supernet(x, arch)
        supernet.set_dropout_rate(0.0, 0.0)
        torch.testing.assert_close(supernet(x, arch), y1)  # eval: regularisation is off


# --- MACs prior ------------------------------------------------------------------------------
def test_macs_histogram(tiny) -> None:
    bucket = 50_000
    hist = macs_histogram(tiny, n=400, seed=0, bucket=bucket)
    assert hist == macs_histogram(tiny, n=400, seed=0, bucket=bucket)
    assert abs(sum(hist.probs) - 1) < 1e-9 and sum(hist.counts) == 400
    assert len(hist.edges) == len(hist.probs) + 1
    # buckets are centred on multiples of the bucket width (official round(macs / step))
    assert all(abs(e / bucket - round(e / bucket) - 0.5) < 1e-9 or
               abs(e / bucket - round(e / bucket) + 0.5) < 1e-9 for e in hist.edges)
    lo, hi = tiny.macs_range()
    assert lo - bucket <= hist.edges[0] and hist.edges[-1] <= hi + bucket
    assert hist.counts[0] > 0 and hist.counts[-1] > 0
    assert hist.bucket_of(hist.edges[0]) == 0 and hist.bucket_of(hist.edges[-1]) == -1
    edge_hist = macs_histogram(tiny, n=400, seed=0, bucket=bucket, centered=False)
    assert all(e % bucket == 0 for e in edge_hist.edges)


def test_sample_in_macs_range_hits_the_bucket(tiny) -> None:
    hist = macs_histogram(tiny, n=300, seed=1, bucket=50_000)
    rng = random.Random(0)
    for _ in range(10):
        low, high = hist.sample_range(rng)
        arch = sample_in_macs_range(tiny, rng, low, high, max_tries=2000)
        assert low <= tiny.cost(arch).macs < high
    # an impossible range returns the closest proposal
    lo, _ = tiny.macs_range()
    arch = sample_in_macs_range(tiny, random.Random(0), 0, lo // 2, max_tries=50)
    assert tiny.validate(arch) == arch
