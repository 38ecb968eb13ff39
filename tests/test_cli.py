"""The `nasrepro` command line: listing, cost, and one-line errors with non-zero exit."""

from __future__ import annotations

import json

from tests.conftest import REPO

OFFICIAL_SEARCHED = [2, 1, 0, 1, 2, 0, 2, 0, 2, 0, 2, 3, 0, 0, 0, 0, 3, 2, 3, 3]


def test_spaces_lists_presets(cli) -> None:
    out = cli("spaces")
    assert out.returncode == 0, out.stderr
    assert "spos:" in out.stdout and "imagenet" in out.stdout and "tiny" in out.stdout


def test_methods_lists_spos_plugins(cli) -> None:
    out = cli("methods", "--paper", "spos")
    assert out.returncode == 0, out.stderr
    for name in ("uniform", "flops-binned", "evolution", "random"):
        assert name in out.stdout


def test_cost_prints_macs_and_params(cli, tmp_path) -> None:
    arch = json.dumps({"blocks": OFFICIAL_SEARCHED})
    out = cli("cost", "spos/imagenet", arch)
    assert out.returncode == 0, out.stderr
    cost = json.loads(out.stdout)
    assert set(cost) == {"macs", "params"}
    assert abs(cost["macs"] / 1e6 - 323) < 1.5
    # the same arch from a file gives the same answer
    path = tmp_path / "arch.json"
    path.write_text(arch)
    assert json.loads(cli("cost", "spos/imagenet", str(path)).stdout) == cost


def _one_line_error(out) -> str:
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    return lines[0]


def test_malformed_arch_json(cli) -> None:
    msg = _one_line_error(cli("cost", "spos/imagenet", "{blocks: [0,"))
    assert "not valid JSON" in msg


def test_wrong_arch_length(cli) -> None:
    msg = _one_line_error(cli("cost", "spos/imagenet", '{"blocks": [0, 1, 2]}'))
    assert "20" in msg


def test_unknown_space_and_preset(cli) -> None:
    assert "unknown space" in _one_line_error(cli("cost", "nope/x", '{"blocks": []}'))
    assert "unknown preset" in _one_line_error(cli("cost", "spos/nope", '{"blocks": []}'))


def test_unknown_profile(cli) -> None:
    assert "unknown profile" in _one_line_error(cli("data", "--profile", "nope"))


def test_unknown_method_in_train_supernet(cli, tmp_path) -> None:
    out = cli("train-supernet", "--profile", "tiny", "--paper", "spos", "--cell", "block/nope",
              "--seed", "0", "--out", str(tmp_path / "run"))
    msg = _one_line_error(out)
    assert "unknown" in msg
    assert not (tmp_path / "run" / "supernet.pt").exists()


def test_repo_root_is_cwd_independent(cli, tmp_path) -> None:
    out = cli("spaces", cwd=tmp_path)
    assert out.returncode == 0 and "spos" in out.stdout
    assert REPO.exists()
