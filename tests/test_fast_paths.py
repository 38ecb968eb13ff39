"""The training loop's opt-in fast paths (issue 15) do the eager fp32 loop's maths.

Each case trains the same network twice through :func:`nasrepro.training.train` from the same
seed, once eager fp32 and once with a fast path, and compares the log rows and the final
weights: channels-last and ``torch.compile`` (the whole network, or a SPOS supernet's choice
blocks while the sampled path changes every step) to float32 tolerance, bf16 autocast to bf16
precision. On CUDA too when present. No time is asserted (``bench/gpu.py`` measures).
"""

from __future__ import annotations

import copy
import random
from types import SimpleNamespace

import pytest
import torch
import yaml
from torch import nn

from nasrepro.errors import ConfigError
from nasrepro.samplers import SinglePathStep
from nasrepro.samplers.uniform import UniformSampler
from nasrepro.spaces import get_space
from nasrepro.training import TrainConfig, fast, train
from nasrepro.training.config import AMP, COMPILE, COMPILE_MODES, FAST_PATH_DEFAULTS
from tests.conftest import REPO

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def eager_random(monkeypatch: pytest.MonkeyPatch) -> None:
    """Compiled graphs draw dropout masks from eager's RNG stream (inductor's
    ``fallback_random``), so a compiled run and an eager one see the same masks; by default
    inductor draws its own (equally random, different) numbers."""
    import torch._inductor.config as inductor_config

    monkeypatch.setattr(inductor_config, "fallback_random", True)


def images(shape: tuple[int, ...], n: int = 48, classes: int = 10, device: str = "cpu"
           ) -> SimpleNamespace:
    """A DataBundle-like set of random images (the maths, not the accuracy, is compared)."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, *shape, generator=g).to(device)
    y = torch.randint(0, classes, (n,), generator=g).to(device)
    return SimpleNamespace(train_x=x, train_y=y, val_x=x[:16], val_y=y[:16],
                           num_classes=classes, checksum="random-images", flip=False)


def recipe(epochs: int = 2, **fast_keys: object) -> TrainConfig:
    return TrainConfig.from_dict(dict(epochs=epochs, batch_size=16, lr=0.05, steps_per_epoch=2,
                                      label_smoothing=0.1, **fast_keys))


def standalone(arch_seed: int, device: str) -> tuple[object, SimpleNamespace]:
    """A builder of one spos/tiny standalone network (same weights every call) and its data."""
    space = get_space("spos/tiny")
    arch = space.sample(random.Random(arch_seed))

    def build() -> nn.Module:
        return space.build(arch, torch.Generator().manual_seed(0)).to(device)

    return build, images(space.input_shape, device=device)


def train_twice(build: object, data: SimpleNamespace, step_of: object | None = None,
                epochs: int = 2, **fast_keys: object) -> tuple[list, list, nn.Module, nn.Module]:
    """Eager and fast runs of the loop from the same network and seed."""
    eager_net, fast_net = build(), build()
    fast_net.load_state_dict(eager_net.state_dict())
    eager_rows = train(eager_net, data, recipe(epochs), seed=3, run_dir=None, progress=False,
                       step=step_of() if step_of else None)
    fast_rows = train(fast_net, data, recipe(epochs, **fast_keys), seed=3, run_dir=None,
                      progress=False, step=step_of() if step_of else None)
    return eager_rows, fast_rows, eager_net, fast_net


def assert_same_training(eager_rows: list, fast_rows: list, eager_net: nn.Module,
                         fast_net: nn.Module, *, rtol: float, atol: float) -> None:
    assert len(eager_rows) == len(fast_rows)
    for a, b in zip(eager_rows, fast_rows, strict=True):
        assert b["train_loss"] == pytest.approx(a["train_loss"], rel=rtol, abs=atol)
    ea, fa = eager_net.state_dict(), fast_net.state_dict()
    assert list(ea) == list(fa)  # in-place compile keeps the checkpoint's keys
    for key in ea:
        torch.testing.assert_close(fa[key].float(), ea[key].float(), rtol=rtol, atol=atol,
                                   msg=lambda m, key=key: f"{key}: {m}")


# --------------------------------------------------------------------------- configuration


def test_recipe_keys_default_off_and_reject_unknown_values() -> None:
    cfg = recipe()
    assert (cfg.channels_last, cfg.amp, cfg.compile, cfg.compile_mode) == (
        False, "none", "none", "default")
    for key, bad in [("amp", "fp16"), ("compile", "graph"), ("compile_mode", "fast"),
                     ("channels_last", "yes")]:
        with pytest.raises(ConfigError, match=key):
            recipe(**{key: bad})


def test_schema_offers_the_same_values_as_the_recipe() -> None:
    """Same values; no schema default (absent = the recipe's default, off), so a resolved
    config of before the keys existed is unchanged."""
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    keys = schema["$defs"]["train"]["properties"]
    assert keys["amp"]["enum"] == list(AMP)
    assert keys["compile"]["enum"] == list(COMPILE)
    assert keys["compile_mode"]["enum"] == list(COMPILE_MODES)
    assert keys["channels_last"]["type"] == "boolean"
    assert not any("default" in keys[k] for k in FAST_PATH_DEFAULTS)
    assert FAST_PATH_DEFAULTS == {k: getattr(recipe(), k) for k in FAST_PATH_DEFAULTS}


@pytest.mark.parametrize("profile", ["tiny", "default", "cifar10", "imagenet"])
def test_fast_paths_off_leave_every_config_hash_as_before(profile: str) -> None:
    """Off, written out or not, no section hash changes (existing results do not rerun);
    turned on, the hash of the paper that trains with it changes and no other."""
    from nasrepro.config import PAPERS, config_hash, load_config

    scopes = ["data", *PAPERS, "all"]
    base = load_config(profile)
    assert "compile" not in base["spos"]["supernet_train"]  # no schema default fills it in
    hashes = {s: config_hash(base, s) for s in scopes}
    spelled = load_config(profile, {"spos": {"supernet_train": dict(FAST_PATH_DEFAULTS)},
                                    "fbnetv3": {"base_train": {"compile": "none"}}})
    assert {s: config_hash(spelled, s) for s in scopes} == hashes
    on = load_config(profile, {"spos": {"supernet_train": {"compile": "blocks"}}})
    changed = [s for s in scopes if config_hash(on, s) != hashes[s]]
    assert changed == ["spos", "all"]


def test_a_checkpoint_records_fast_paths_only_when_on() -> None:
    """A checkpoint's identity leaves out fast paths that are off (a checkpoint of before they
    existed resumes), and records one that is on (resuming with it off is refused)."""
    assert not set(FAST_PATH_DEFAULTS) & set(recipe().identity_dict())
    assert recipe(compile="blocks").identity_dict()["compile"] == "blocks"
    assert recipe(compile="blocks").identity_dict() != recipe().identity_dict()


@pytest.mark.parametrize("preset", ["spos/tiny", "darts/tiny", "mobilenet/tiny", "fbnetv3/tiny"])
def test_every_network_lists_its_blocks(preset: str) -> None:
    space = get_space(preset)
    nets = [space.build(space.sample(random.Random(0)))]
    if preset != "fbnetv3/tiny":  # its supernet is the mobilenet one
        nets.append(space.build_supernet())
    for net in nets:
        units = fast.compile_units(net)
        submodules = {id(m) for m in net.modules()}
        assert len(units) >= 2 and all(id(u) in submodules and u is not net for u in units)


def test_blocks_of_a_network_without_blocks_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="compile: network or none"):
        fast.prepare(nn.Sequential(nn.Linear(2, 2)), compile="blocks")


# --------------------------------------------------------------------------- equal maths


@pytest.mark.parametrize("device", DEVICES)
def test_channels_last_trains_like_contiguous(device: str) -> None:
    eager_rows, fast_rows, eager_net, fast_net = train_twice(*standalone(1, device),
                                                             channels_last=True)
    conv = next(m for m in fast_net.modules() if isinstance(m, nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert_same_training(eager_rows, fast_rows, eager_net, fast_net, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("device", DEVICES)
def test_bf16_autocast_runs_the_step_in_bf16_on_fp32_weights(device: str) -> None:
    """The loop runs the step under bf16 autocast: convolutions compute in bf16, the weights
    and their updates stay fp32, the loss agrees with fp32 to bf16 precision. (Weights are
    not compared: at initialisation on random labels a gradient is a small difference of
    large terms, and bf16's 8-bit mantissa moves it by tens of percent; bench/gpu.py and a
    profile's own runs show whether bf16 training keeps its accuracy.)"""
    space = get_space("spos/tiny")
    arch = space.sample(random.Random(1))
    seen: dict[str, set] = {"eager": set(), "bf16": set()}

    def build(tag: str) -> nn.Module:
        net = space.build(arch, torch.Generator().manual_seed(0)).to(device)
        conv = next(m for m in net.modules() if isinstance(m, nn.Conv2d))
        conv.register_forward_hook(lambda m, i, out: seen[tag].add(out.dtype))
        return net

    data = images(space.input_shape, device=device)
    eager_net, fast_net = build("eager"), build("bf16")
    eager_rows = train(eager_net, data, recipe(1), seed=3, run_dir=None, progress=False)
    fast_rows = train(fast_net, data, recipe(1, amp="bf16"), seed=3, run_dir=None,
                      progress=False)
    assert seen == {"eager": {torch.float32}, "bf16": {torch.bfloat16}}
    assert all(p.dtype == torch.float32 for p in fast_net.parameters())
    assert fast_rows[0]["train_loss"] == pytest.approx(eager_rows[0]["train_loss"], rel=2e-2)
    moved = [not torch.equal(a, b) for a, b in zip(fast_net.parameters(),
                                                   build("eager").parameters(), strict=True)]
    assert any(moved)


@pytest.mark.usefixtures("eager_random")
@pytest.mark.parametrize("device", DEVICES)
def test_compiled_network_trains_like_eager(device: str) -> None:
    """A small CNN with BN and dropout (the SPOS blocks are compiled in the next test; a
    whole SPOS network would only add compile time)."""

    from torch._dynamo.utils import counters

    class SmallCNN(nn.Module):  # user code: dynamo traces it (torch's own Sequential it skips)
        def __init__(self) -> None:
            super().__init__()
            self.conv, self.bn = nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8)
            self.drop, self.fc = nn.Dropout(0.2), nn.Linear(32, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = torch.relu(self.bn(self.conv(x)))
            return self.fc(self.drop(nn.functional.adaptive_avg_pool2d(x, 2).flatten(1)))

    def build() -> nn.Module:
        torch.manual_seed(0)
        return SmallCNN().to(device)

    counters.clear()
    eager_rows, fast_rows, eager_net, fast_net = train_twice(
        build, images((1, 8, 8), device=device), compile="network")
    assert counters["stats"]["unique_graphs"] > 0  # something was really compiled
    assert fast_net._compiled_call_impl is not None  # compiled in place, called by the loop
    assert_same_training(eager_rows, fast_rows, eager_net, fast_net, rtol=1e-4, atol=1e-5)


@pytest.mark.usefixtures("eager_random")
@pytest.mark.parametrize("device", DEVICES)
def test_compiled_blocks_train_a_single_path_supernet_like_eager(device: str) -> None:
    """Two steps, two uniformly sampled paths: the blocks compile per choice as the paths
    reach them (the rest stay compiled but unused), and every weight matches eager. The blocks
    of the first two layers are compiled (8 of 20; inductor's CPU compile time is most of the
    test), the rest run eager beside them."""
    space = get_space("spos/tiny")

    def build() -> nn.Module:
        net = space.build_supernet(torch.Generator().manual_seed(0)).to(device)
        first_two_layers = net.compile_units()[:8]
        net.compile_units = lambda: first_two_layers
        return net

    def step() -> SinglePathStep:
        return SinglePathStep(UniformSampler(space, seed=5))

    eager_rows, fast_rows, eager_net, fast_net = train_twice(
        build, images(space.input_shape, device=device), step, epochs=1, compile="blocks")
    units = fast.compile_units(fast_net)
    assert all(u._compiled_call_impl is not None for u in units)
    assert all(u._compiled_call_impl is None for u in fast.compile_units(eager_net))
    assert_same_training(eager_rows, fast_rows, eager_net, fast_net, rtol=1e-4, atol=1e-5)


def test_a_compiled_network_copies_as_an_eager_one() -> None:
    """EMA and BN recalibration copy the network: the copy has the same weights and runs eager
    (no second compilation)."""
    space = get_space("spos/tiny")
    net = space.build(space.sample(random.Random(0)))
    fast.prepare(net, compile="network")
    twin = copy.deepcopy(net)
    assert twin._compiled_call_impl is None
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(),
                                                 twin.state_dict().values(), strict=True))


def test_every_recipe_takes_the_keys_from_the_config() -> None:
    """A profile sets them per recipe; FBNetV3's searched recipes take them from base_train;
    a value outside the schema is a one-line config error."""
    from nasrepro.config import workflow_config
    from nasrepro.papers.fbnetv3.experiment import default_recipe, recipe_space

    config = workflow_config({}, ["profile=tiny", "spos={supernet_train: {compile: blocks}}",
                                  "fbnetv3={base_train: {amp: bf16, channels_last: true}}"])
    assert TrainConfig.from_dict(config["spos"]["supernet_train"]).compile == "blocks"
    fb = TrainConfig.from_dict(recipe_space(config).train_config(default_recipe(config)))
    assert (fb.amp, fb.channels_last, fb.compile) == ("bf16", True, "none")
    with pytest.raises(ConfigError, match="compile"):
        workflow_config({}, ["profile=tiny", "darts_snas={retrain: {compile: graph}}"])


@pytest.mark.parametrize("mode", ["network", "blocks"])
def test_a_drop_path_ramp_does_not_recompile_a_compiled_darts_net(
        mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """DARTS retraining ramps the drop-path probability every epoch: compiled, the network
    hands it to the cells as a tensor, so a new value reuses the graphs; the float it used to
    pass recompiles (dynamo's guards, checked with its eager backend: no inductor time)."""
    import torch._dynamo

    monkeypatch.setattr(fast, "compile_module",
                        lambda module, mode="default": module.compile(backend="eager",
                                                                      dynamic=False))
    space = get_space("darts/tiny")
    arch = space.sample(random.Random(0))
    x = torch.randn(4, *space.input_shape, generator=torch.Generator().manual_seed(1))

    def epoch(net: nn.Module, p: float) -> None:
        net.drop_path_prob = p
        out = net(x)
        (out[0] if isinstance(out, tuple) else out).sum().backward()

    recompiled = []
    for as_tensor in (True, False):
        torch._dynamo.reset()
        net = space.build(arch, torch.Generator().manual_seed(0)).train()
        fast.prepare(net, compile=mode)
        assert net.drop_path_as_tensor  # prepare switches it on
        net.drop_path_as_tensor = as_tensor
        epoch(net, 0.1)
        try:
            with torch._dynamo.config.patch(error_on_recompile=True):
                epoch(net, 0.2)
            recompiled.append(False)
        except torch._dynamo.exc.RecompileError:
            recompiled.append(True)
    assert recompiled == [False, True]
    torch._dynamo.reset()


def test_tensor_drop_path_drops_whole_samples_and_rescales() -> None:
    """The tensor probability a compiled net passes: probability 0 returns the input; a
    positive one zeroes whole samples and scales the rest by 1 / keep, at the right rate."""
    from nasrepro.supernets.darts_ops import drop_path

    x = torch.rand(4000, 2, 2, 2) + 1.0
    assert torch.equal(drop_path(x, torch.tensor(0.0)), x)
    torch.manual_seed(0)
    y = drop_path(x, torch.tensor(0.25))
    kept = (y != 0).flatten(1)
    assert bool((kept.all(1) | ~kept.any(1)).all())  # a sample is dropped whole or kept whole
    rate = kept.all(1).float().mean().item()
    assert abs(rate - 0.75) < 0.03  # 4000 samples: sd of the rate about 0.007
    assert torch.allclose(y[kept.all(1)], x[kept.all(1)] / 0.75)


def test_a_compiled_darts_net_keeps_its_checkpoint_keys() -> None:
    """The drop-path buffer is not persistent: a checkpoint loads in either mode."""
    space = get_space("darts/tiny")
    net = space.build(space.sample(random.Random(0)))
    net.drop_path_prob = 0.3
    assert net._drop_prob.item() == pytest.approx(0.3) and net.drop_path_prob == 0.3
    assert "_drop_prob" not in net.state_dict()


def test_every_network_of_a_job_is_compiled_not_only_the_first_eight(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A job that trains many candidate networks of one class (FBNetV3) compiles each: all
    instances share one code object, whose default budget (8) would send the ninth to eager
    (dynamo's guards, checked with its eager backend)."""
    import torch._dynamo
    from torch._dynamo.utils import counters

    monkeypatch.setattr(fast, "compile_module",
                        lambda module, mode="default": module.compile(backend="eager",
                                                                      dynamic=False))

    class Candidate(nn.Module):
        def __init__(self, width: int) -> None:
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(4, width), nn.Linear(width, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc2(torch.relu(self.fc1(x)))

    with fast.compile_state_restored():
        counters.clear()
        for width in range(1, 13):
            net = Candidate(width)
            fast.prepare(net, compile="network")
            net(torch.randn(2, 4)).sum().backward()
        assert counters["stats"]["unique_graphs"] == 12
