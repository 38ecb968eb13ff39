"""Tests of the DARTS/SNAS cell space, its ops, standalone nets and search supernet."""

from __future__ import annotations

import json
import random
from collections import namedtuple

import pytest
import torch

import nasrepro.spaces.darts  # noqa: F401  (registers the space)
from nasrepro.errors import ArchError, ConfigError, UnknownNameError
from nasrepro.metrics import measure
from nasrepro.spaces import get_space, list_spaces
from nasrepro.spaces.darts import (
    PRIMITIVES,
    cell_edges,
    derive_darts,
    derive_snas,
    edge_index,
    num_edges,
)
from nasrepro.spaces.darts_genotypes import GENOTYPES, PUBLISHED_PARAMS, REFERENCE_ARCHS
from nasrepro.supernets.darts import DartsSupernet, MixedOp
from nasrepro.supernets.darts_ops import FactorizedReduce, Identity, drop_path, make_op

V2 = REFERENCE_ARCHS["DARTS_V2"]
Genotype = namedtuple("Genotype", "normal normal_concat reduce reduce_concat")


def _genotype_repr(name: str) -> str:
    """The repr the official code prints, with ``range(2, 6)`` concats."""
    g = GENOTYPES[name]
    return (f"Genotype(normal={list(g['normal'])!r}, normal_concat=range(2, 6), "
            f"reduce={list(g['reduce'])!r}, reduce_concat=range(2, 6))")


@pytest.fixture(scope="module")
def tiny():
    return get_space("darts/tiny")


@pytest.fixture(scope="module")
def eval_space():
    return get_space("darts/cifar10-eval")


# --- presets and geometry -------------------------------------------------------------------
def test_presets_registered() -> None:
    assert {"cifar10-search", "cifar10-eval", "small", "tiny"} <= set(list_spaces()["darts"])
    assert get_space("darts/cifar10-search").input_shape == (3, 32, 32)
    assert get_space("darts/cifar10-eval").input_shape == (3, 32, 32)
    assert get_space("darts/small").input_shape == (1, 28, 28)
    assert get_space("darts/tiny").input_shape == (1, 8, 8)


def test_official_geometry(eval_space) -> None:
    cells = eval_space.cells
    assert len(cells) == 20
    assert [c.index for c in cells if c.reduction] == [6, 13]
    assert [c.c for c in cells][:8] == [36] * 6 + [72, 72]
    assert cells[0].c_prev_prev == cells[0].c_prev == 108  # stem 3 * C
    assert cells[7].reduction_prev and cells[7].c_prev_prev == 4 * 36
    assert [c.out_size for c in cells][5:8] == [32, 16, 16]
    assert eval_space.cfg.aux_index == 13 and eval_space.cfg.aux_size == 8
    assert eval_space.cfg.aux_channels == 4 * 144
    search = get_space("darts/cifar10-search")
    assert [c.index for c in search.cells if c.reduction] == [2, 5]
    assert search.cfg.final_channels == 4 * 64


def test_bad_settings() -> None:
    with pytest.raises(UnknownNameError, match="preset"):
        get_space("darts/nope")
    with pytest.raises(ConfigError, match="unknown setting"):
        get_space("darts/tiny", channels=3)
    with pytest.raises(ConfigError, match="even size"):
        get_space("darts/small", input_size=14)  # 14 -> 7 -> the second reduction sees 7
    with pytest.raises(ConfigError, match="positive int"):
        get_space("darts/tiny", C=0)
    with pytest.raises(ConfigError, match="multiplier"):
        get_space("darts/tiny", multiplier=5)


# --- ops ------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", PRIMITIVES)
@pytest.mark.parametrize("stride", [1, 2])
def test_op_shapes(op: str, stride: int) -> None:
    x = torch.randn(2, 6, 8, 8)
    for affine, pool_bn in [(True, False), (False, True)]:
        m = make_op(op, 6, stride, affine=affine, pool_bn=pool_bn)
        y = m(x)
        assert y.shape == (2, 6, 8 // stride, 8 // stride)
        if op == "none":
            assert not y.any()
        if op == "skip_connect":
            assert isinstance(m, Identity if stride == 1 else FactorizedReduce)
        bns = [b for b in m.modules() if isinstance(b, torch.nn.BatchNorm2d)]
        assert all(b.affine == affine for b in bns)
        if "pool" in op:
            assert len(bns) == int(pool_bn)


def test_avg_pool_excludes_padding() -> None:
    y = make_op("avg_pool_3x3", 1, 1)(torch.ones(1, 1, 4, 4))
    assert torch.equal(y, torch.ones(1, 1, 4, 4))  # count_include_pad=False keeps borders at 1


def test_drop_path_function() -> None:
    torch.manual_seed(0)
    x = torch.ones(64, 3, 2, 2)
    y = drop_path(x, 0.5)
    per_sample = y.flatten(1)
    assert set(per_sample.unique().tolist()) <= {0.0, 2.0}
    assert (per_sample == per_sample[:, :1]).all()  # whole samples dropped
    assert 0 < (per_sample[:, 0] == 0).sum() < 64
    assert drop_path(x, 0.0) is x


# --- edges ----------------------------------------------------------------------------------
def test_edge_order_is_official() -> None:
    edges = cell_edges(4)
    assert num_edges(4) == len(edges) == 14
    assert edges[:5] == [(0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]
    assert edges[-5:] == [(0, 5), (1, 5), (2, 5), (3, 5), (4, 5)]
    assert [edge_index(s, d) for s, d in edges] == list(range(14))
    with pytest.raises(ValueError):
        edge_index(2, 2)


# --- encoding -------------------------------------------------------------------------------
def test_reference_archs_canonical(tiny) -> None:
    assert V2 == {
        "normal": [["sep_conv_3x3", 0, 2], ["sep_conv_3x3", 1, 2], ["sep_conv_3x3", 0, 3],
                   ["sep_conv_3x3", 1, 3], ["skip_connect", 0, 4], ["sep_conv_3x3", 1, 4],
                   ["skip_connect", 0, 5], ["dil_conv_3x3", 2, 5]],
        "reduce": [["max_pool_3x3", 0, 2], ["max_pool_3x3", 1, 2], ["max_pool_3x3", 1, 3],
                   ["skip_connect", 2, 3], ["max_pool_3x3", 0, 4], ["skip_connect", 2, 4],
                   ["max_pool_3x3", 1, 5], ["skip_connect", 2, 5]],
    }
    aggressive = REFERENCE_ARCHS["SNAS_aggressive_edge_all"]
    assert aggressive["reduce"] == [["sep_conv_5x5", 0, 2], ["sep_conv_5x5", 0, 3]]
    assert len(REFERENCE_ARCHS["SNAS_mild_edge_all"]["normal"]) == 8
    for name, arch in REFERENCE_ARCHS.items():
        assert tiny.validate(arch) == arch, name


@pytest.mark.parametrize("name", sorted(GENOTYPES))
def test_genotype_formats_agree(tiny, name: str) -> None:
    g = GENOTYPES[name]
    canon = REFERENCE_ARCHS[name]
    as_lists = {k: [list(p) for p in v] if k in ("normal", "reduce") else list(v)
                for k, v in g.items()}
    forms = [
        g,                                      # dict of tuples
        as_lists,                               # JSON-like dict
        json.dumps(as_lists),                   # JSON text
        _genotype_repr(name),                   # repr string with range(2, 6)
        Genotype(g["normal"], range(2, 6), g["reduce"], range(2, 6)),  # namedtuple
        {"normal": g["normal"], "reduce": g["reduce"]},  # concat omitted
    ]
    for form in forms:
        assert tiny.validate(form) == canon
    # the edge list in any order, with 'none' edges listed, gives the same canonical form
    shuffled = {}
    for kind, edges in canon.items():
        used = {(e[1], e[2]) for e in edges}
        free = [["none", s, d] for s, d in cell_edges(4) if (s, d) not in used]
        shuffled[kind] = list(reversed(edges)) + free[:1]
    assert tiny.validate(shuffled) == canon
    assert tiny.arch_id(_genotype_repr(name)) == tiny.arch_id(canon)


def test_none_edges_dropped_and_ids_differ(tiny) -> None:
    with_none = {"normal": [["none", 0, 2], ["sep_conv_3x3", 1, 2]], "reduce": []}
    assert tiny.validate(with_none) == {"normal": [["sep_conv_3x3", 1, 2]], "reduce": []}
    assert tiny.arch_id(V2) != tiny.arch_id(REFERENCE_ARCHS["DARTS_V1"])


@pytest.mark.parametrize("bad", [
    [["sep_conv_3x3", 0, 2]],
    "{not json",
    "Genotype(normal=__import__('os').system('true'), normal_concat=[2], reduce=[], "
    "reduce_concat=[2])",
    "Genotype(normal=[('sep_conv_3x3', 0)]",
    {"normal": []},
    {"normal": [], "reduce": [], "extra": 1},
    {"normal": [["conv_7x7", 0, 2]], "reduce": []},
    {"normal": [["sep_conv_3x3", 0, 6]], "reduce": []},
    {"normal": [["sep_conv_3x3", 0, 1]], "reduce": []},
    {"normal": [["sep_conv_3x3", 3, 3]], "reduce": []},
    {"normal": [["sep_conv_3x3", 0, 2], ["skip_connect", 0, 2]], "reduce": []},
    {"normal": [["sep_conv_3x3", 0.0, 2]], "reduce": []},
    {"normal": [["sep_conv_3x3", True, 2]], "reduce": []},
    {"normal": [["sep_conv_3x3", 0]], "reduce": [["sep_conv_3x3", 0, 2]]},
    {"normal": "sep_conv_3x3", "reduce": []},
    {"normal": [], "reduce": [], "normal_concat": [2, 3, 4, 5]},
    {"normal": GENOTYPES["DARTS_V2"]["normal"][:7], "reduce": GENOTYPES["DARTS_V2"]["reduce"]},
    {**GENOTYPES["DARTS_V2"], "normal_concat": [3, 4, 5]},
    {"normal": [("sep_conv_3x3", 2)] + GENOTYPES["DARTS_V2"]["normal"][1:],
     "reduce": GENOTYPES["DARTS_V2"]["reduce"]},
])
def test_malformed_archs_raise(tiny, bad) -> None:
    with pytest.raises(ArchError) as info:
        tiny.validate(bad)
    msg = str(info.value)
    assert "\n" not in msg and "expected" in msg and '"normal"' in msg


def test_features(tiny) -> None:
    f = tiny.features(V2)
    assert len(f) == 2 * 14 * 8
    blocks = [f[i:i + 8] for i in range(0, len(f), 8)]
    assert all(sum(b) == 1.0 for b in blocks)
    assert sum(b[0] for b in blocks) == 2 * (14 - 8)  # absent edges are 'none'
    assert blocks[0][PRIMITIVES.index("sep_conv_3x3")] == 1.0  # normal edge 0 -> 2
    assert blocks[14][PRIMITIVES.index("max_pool_3x3")] == 1.0  # reduce edge 0 -> 2
    assert tiny.features(_genotype_repr("DARTS_V2")) == f


# --- derivation -----------------------------------------------------------------------------
def _op(name: str) -> int:
    return PRIMITIVES.index(name)


def test_derive_darts_ignores_none() -> None:
    a = torch.zeros(14, 8)
    # node 2: edge 0->2 prefers 'none' but its best real op is avg_pool; only 2 edges, both kept
    a[edge_index(0, 2), _op("none")] = 5.0
    a[edge_index(0, 2), _op("avg_pool_3x3")] = 4.0
    a[edge_index(1, 2), _op("skip_connect")] = 1.0
    # node 3: 0->3 is dominated by 'none' (its real ops weigh little after the softmax)
    a[edge_index(0, 3), _op("none")] = 10.0
    a[edge_index(0, 3), _op("sep_conv_5x5")] = 2.0
    a[edge_index(1, 3), _op("max_pool_3x3")] = 2.0
    a[edge_index(2, 3), _op("dil_conv_5x5")] = 3.0
    arch = derive_darts(a, torch.zeros(14, 8))
    normal = arch["normal"]
    assert ["avg_pool_3x3", 0, 2] in normal and ["skip_connect", 1, 2] in normal
    assert [e for e in normal if e[2] == 3] == [["max_pool_3x3", 1, 3], ["dil_conv_5x5", 2, 3]]
    assert all(len([e for e in normal if e[2] == n]) == 2 for n in range(2, 6))
    assert all(e[0] != "none" for e in normal + arch["reduce"])
    # all-equal alphas: ties go to the first edges and the first real op (official order)
    assert arch["reduce"] == [["max_pool_3x3", 0, n] if i == 0 else ["max_pool_3x3", 1, n]
                              for n in range(2, 6) for i in range(2)]


def test_derive_snas_keeps_argmax_on_every_edge() -> None:
    a = torch.zeros(14, 8)
    a[:, _op("sep_conv_3x3")] = 1.0
    a[edge_index(0, 3), _op("none")] = 5.0           # argmax none -> the edge vanishes
    a[edge_index(4, 5), _op("dil_conv_5x5")] = 3.0
    r = torch.zeros(14, 8)                           # ties -> 'none' (index 0) -> empty cell
    arch = derive_snas(a, r)
    assert len(arch["normal"]) == 13
    assert not any(e[1:] == [0, 3] for e in arch["normal"])
    assert ["dil_conv_5x5", 4, 5] in arch["normal"]
    assert arch["reduce"] == []
    # DARTS on the same alphas keeps 2 edges per node and never 'none'
    assert len(derive_darts(a, r)["normal"]) == 8


@pytest.mark.parametrize("name", sorted(REFERENCE_ARCHS))
def test_derivation_round_trips(tiny, name: str) -> None:
    arch = REFERENCE_ARCHS[name]
    w = tiny.arch_weights(arch)
    assert derive_snas(w["normal"], w["reduce"]) == arch
    if name.startswith("DARTS"):
        assert derive_darts(10 * w["normal"], 10 * w["reduce"]) == arch


# --- cost -----------------------------------------------------------------------------------
def test_reference_param_counts(eval_space) -> None:
    counts = {name: eval_space.cost(a).params for name, a in REFERENCE_ARCHS.items()}
    # exactly the official train.py printout "param size = 3.349342MB"
    assert counts["DARTS_V2"] == PUBLISHED_PARAMS["DARTS_V2"]["params"] == 3_349_342
    assert eval_space.cost(V2).macs == 528_359_040
    # DARTS_V1 is the first arXiv version's second-order cell (not the paper's first-order
    # one, which was never released): 3.17M, pinned; no published count applies to it
    assert counts["DARTS_V1"] == 3_169_414
    assert PUBLISHED_PARAMS["DARTS_V1"]["params_m"] is None
    # SNAS nets (SNAS operations.py: BN after pools): moderate/aggressive match Table 1
    snas = get_space("darts/cifar10-eval", pool_bn=True)
    snas_counts = {n: snas.cost(REFERENCE_ARCHS[n]).params for n in REFERENCE_ARCHS
                   if n.startswith("SNAS")}
    for name in ("SNAS_moderate_edge_all", "SNAS_aggressive_edge_all"):
        assert round(snas_counts[name] / 1e6, 1) == PUBLISHED_PARAMS[name]["params_m"]
        assert round(counts[name] / 1e6, 1) == PUBLISHED_PARAMS[name]["params_m"]
    assert snas_counts == {"SNAS_mild_edge_all": 2_663_542, "SNAS_moderate_edge_all": 2_848_222,
                           "SNAS_aggressive_edge_all": 2_313_622}
    # the released mild cell gives 2.66M, below the 2.9M of SNAS Table 1 (see the report)
    assert round(snas_counts["SNAS_mild_edge_all"] / 1e6, 2) == 2.66
    # stronger resource penalty -> fewer params (SNAS claim D3)
    assert (snas_counts["SNAS_mild_edge_all"] > snas_counts["SNAS_aggressive_edge_all"]
            and snas_counts["SNAS_moderate_edge_all"] > snas_counts["SNAS_aggressive_edge_all"])


def test_cost_matches_flop_counter_eval(eval_space) -> None:
    model = eval_space.build(V2)
    assert measure(model, eval_space.input_shape) == eval_space.cost(V2)
    assert sum(p.numel() for n, p in model.named_parameters()
               if not n.startswith("auxiliary")) == 3_349_342


@pytest.mark.parametrize("preset", ["tiny", "small"])
def test_cost_matches_flop_counter(preset: str) -> None:
    rng = random.Random(3)
    for pool_bn in (False, True):
        space = get_space(f"darts/{preset}", pool_bn=pool_bn, auxiliary=True)
        archs = [space.sample(rng) for _ in range(2)] + list(REFERENCE_ARCHS.values())
        archs.append({"normal": [["sep_conv_5x5", 4, 5], ["skip_connect", 3, 4]],
                      "reduce": [["skip_connect", 1, 2]]})  # zero nodes, edges out of them
        archs.append({"normal": [], "reduce": []})
        for arch in archs:
            assert measure(space.build(arch), space.input_shape) == space.cost(arch)


def test_edge_costs(tiny) -> None:
    table = tiny.edge_costs("reduce")
    assert len(table) == 14 and all(len(r) == 8 for r in table)
    assert all(row[_op("none")] == (0, 0) for row in table)
    e_in, e_mid = edge_index(0, 2), edge_index(2, 3)
    # skip_connect is FactorizedReduce (costly) on input edges of a reduction cell only
    assert table[e_in][_op("skip_connect")][0] > 0 and table[e_mid][_op("skip_connect")] == (0, 0)
    empty = tiny.cost({"normal": [], "reduce": []})
    one = tiny.cost({"normal": [], "reduce": [["sep_conv_3x3", 0, 2]]})
    assert (one.macs - empty.macs, one.params - empty.params) == table[e_in][_op("sep_conv_3x3")]


# --- standalone network ---------------------------------------------------------------------
def test_standalone_outputs_and_auxiliary() -> None:
    space = get_space("darts/tiny", auxiliary=True)
    net = space.build(V2)
    x = torch.randn(4, 1, 8, 8)
    net.train()
    out = net(x)
    assert isinstance(out, tuple) and out[0].shape == out[1].shape == (4, 10)
    net.eval()
    assert net(x).shape == (4, 10)
    plain = get_space("darts/tiny").build(V2).train()
    assert plain(x).shape == (4, 10)
    assert not hasattr(plain, "auxiliary_head")


def test_official_auxiliary_head(eval_space) -> None:
    net = eval_space.build(REFERENCE_ARCHS["SNAS_aggressive_edge_all"]).train()
    head = net.auxiliary_head.features
    assert head[1].kernel_size == 5 and head[1].stride == 3 and head[5].kernel_size == (2, 2)
    logits, aux = net(torch.randn(2, 3, 32, 32))
    assert logits.shape == aux.shape == (2, 10)


def test_drop_path_honoured(tiny) -> None:
    net = tiny.build(V2)
    assert net.drop_path_prob == 0.0
    x = torch.randn(8, 1, 8, 8)
    net.train()
    assert torch.equal(net(x), net(x))  # no drop path: train mode is deterministic
    net.drop_path_prob = 0.5
    torch.manual_seed(1)
    a = net(x)
    b = net(x)
    torch.manual_seed(1)
    assert not torch.equal(a, b) and torch.equal(a, net(x))
    net.eval()
    ref = net(x)
    net.drop_path_prob = 0.0
    assert torch.equal(ref, net(x))  # eval ignores drop path
    # only the network carries the attribute the training loop sets
    assert [n for n, m in net.named_modules() if hasattr(m, "drop_path_prob")] == [""]


def test_build_is_reproducible(tiny) -> None:
    a = tiny.build(V2, generator=torch.Generator().manual_seed(5)).state_dict()
    b = tiny.build(V2, generator=torch.Generator().manual_seed(5)).state_dict()
    c = tiny.build(V2, generator=torch.Generator().manual_seed(6)).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


# --- supernet -------------------------------------------------------------------------------
def _count_calls(supernet: DartsSupernet) -> dict[tuple[int, int, int], int]:
    calls: dict[tuple[int, int, int], int] = {}
    for ci, cell in enumerate(supernet.cells):
        for e, mixed in enumerate(cell._ops):
            assert isinstance(mixed, MixedOp)
            for k, op in enumerate(mixed._ops):
                calls[(ci, e, k)] = 0

                def hook(_m, _i, _o, key=(ci, e, k)) -> None:
                    calls[key] += 1

                op.register_forward_hook(hook)
    return calls


def test_supernet_one_hot_runs_one_op_per_edge(tiny) -> None:
    sup = tiny.build_supernet(generator=torch.Generator().manual_seed(0))
    calls = _count_calls(sup)
    arch = REFERENCE_ARCHS["SNAS_mild_edge_all"]
    w = tiny.arch_weights(arch)
    x = torch.randn(4, 1, 8, 8)
    out = sup(x, w)
    assert out.shape == (4, 10)
    for ci, cell in enumerate(sup.cells):
        kind = "reduce" if cell.reduction else "normal"
        chosen = {edge_index(s, d): _op(op) for op, s, d in arch[kind]}
        for e in range(14):
            ran = [k for k in range(8) if calls[(ci, e, k)]]
            assert ran == ([chosen[e]] if e in chosen else [])
            assert sum(calls[(ci, e, k)] for k in range(8)) == (1 if e in chosen else 0)
    sup.eval()
    assert torch.equal(sup(x, w), sup(x, arch))  # an arch runs its one-hot child


def test_supernet_skips_zero_weights_without_changing_output(tiny, monkeypatch) -> None:
    sup = tiny.build_supernet(generator=torch.Generator().manual_seed(0)).eval()
    calls = _count_calls(sup)
    g = torch.Generator().manual_seed(1)
    w = {k: torch.rand(14, 8, generator=g) for k in ("normal", "reduce")}
    for v in w.values():
        v[:, _op("sep_conv_5x5")] = 0.0
        v[3, :] = 0.0
        v[:, _op("none")] = 1.0
    x = torch.randn(2, 1, 8, 8)
    fast = sup(x, w)
    assert all(n == 0 for (ci, e, k), n in calls.items()
               if k in (_op("none"), _op("sep_conv_5x5")) or e == 3)
    assert all(n == 1 for (ci, e, k), n in calls.items()
               if k not in (_op("none"), _op("sep_conv_5x5")) and e != 3)
    # the dense official sum over every op (w * op(x), 'none' adding zeros) gives the same
    monkeypatch.setattr(DartsSupernet, "active_ops",
                        staticmethod(lambda v: [list(range(1, 8))] * v.shape[0]))
    assert torch.allclose(fast, sup(x, w), atol=1e-6)


def test_supernet_gradients_and_shapes(tiny) -> None:
    sup = tiny.build_supernet(generator=torch.Generator().manual_seed(0))
    alpha = {k: (1e-3 * torch.randn(14, 8)).requires_grad_() for k in ("normal", "reduce")}
    w = {k: torch.softmax(v, dim=-1) for k, v in alpha.items()}
    out = sup(torch.randn(4, 1, 8, 8), w)
    torch.nn.functional.cross_entropy(out, torch.arange(4)).backward()
    assert all(v.grad is not None and v.grad.abs().sum() > 0 for v in alpha.values())
    bns = [m for m in sup.cells.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and not any(b.affine for b in bns)
    pool_bns = [m for m in sup.cells[0]._ops[0]._ops[_op("max_pool_3x3")].modules()
                if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(pool_bns) == 1
    with pytest.raises(ValueError, match="shape"):
        sup(torch.randn(1, 1, 8, 8), {"normal": torch.ones(14, 7), "reduce": torch.ones(14, 8)})
    with pytest.raises(ArchError):
        sup(torch.randn(1, 1, 8, 8), {"normal": [["bad", 0, 2]], "reduce": []})


def test_supernet_drop_path(tiny) -> None:
    sup = tiny.build_supernet(generator=torch.Generator().manual_seed(0))
    w = tiny.arch_weights(V2)
    x = torch.randn(8, 1, 8, 8)
    sup.train()
    assert torch.equal(sup(x, w), sup(x, w))
    sup.drop_path_prob = 0.5
    assert not torch.equal(sup(x, w), sup(x, w))


# --- sampling and variation -----------------------------------------------------------------
def test_sample_mutate_crossover(tiny) -> None:
    archs = [tiny.sample(random.Random(7)) for _ in range(2)]
    assert archs[0] == archs[1]
    pop = [tiny.sample(random.Random(s)) for s in range(20)]
    assert len({tiny.arch_id(a) for a in pop}) == 20
    for a in pop:
        assert tiny.validate(a) == a
        for kind in ("normal", "reduce"):
            for node in range(2, 6):
                srcs = [e[1] for e in a[kind] if e[2] == node]
                assert len(srcs) == 2 and len(set(srcs)) == 2
            assert all(e[0] != "none" for e in a[kind])
    a, b = pop[0], pop[1]
    assert tiny.mutate(a, random.Random(1), 0.0) == a
    m1 = tiny.mutate(a, random.Random(1), 0.5)
    assert m1 == tiny.mutate(a, random.Random(1), 0.5) and m1 != a
    assert tiny.validate(m1) == m1
    for kind in ("normal", "reduce"):
        assert [e[2] for e in m1[kind]] == [e[2] for e in a[kind]]  # edges per node kept
    snas = REFERENCE_ARCHS["SNAS_moderate_edge_all"]
    m2 = tiny.mutate(snas, random.Random(2), 1.0)
    assert tiny.validate(m2) == m2 and len(m2["reduce"]) == len(snas["reduce"])
    c1 = tiny.crossover(a, b, random.Random(3))
    assert c1 == tiny.crossover(a, b, random.Random(3))
    assert tiny.validate(c1) == c1
    for kind in ("normal", "reduce"):
        for node in range(2, 6):
            got = [e for e in c1[kind] if e[2] == node]
            assert got in ([e for e in a[kind] if e[2] == node],
                           [e for e in b[kind] if e[2] == node])
    assert tiny.crossover(a, a, random.Random(4)) == a
