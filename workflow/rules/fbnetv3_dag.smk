# FBNetV3 DAG helpers (no rules; `snakemake --lint` wants rules and functions in separate
# files): the searches, the retrain roles and their inputs, and the output paths.
from nasrepro.papers.fbnetv3.grid import PREDICTOR_DIR as _FB_PREDICTOR_DIR  # noqa: E402
from nasrepro.papers.fbnetv3.grid import PRETRAIN_DIR as _FB_PRETRAIN_DIR  # noqa: E402
from nasrepro.papers.fbnetv3.grid import retrain_path as _fb_retrain_path  # noqa: E402
from nasrepro.papers.fbnetv3.grid import search_path as _fb_search_path  # noqa: E402

FB = config["fbnetv3"]
FB_PROXY = f"{P}/{_FB_PRETRAIN_DIR}/proxy.pt"
FB_PREDICTOR_DIR = f"{P}/{_FB_PREDICTOR_DIR}"


def fb_search_dir(name):
    """The run dir of search ``<budget>_<mode>`` (at fbnetv3.search_seed)."""
    return f"{P}/{_fb_search_path(*name.split('_', 1), FB['search_seed'])}"


def fb_retrain_outputs(seeds):
    """metrics.json of every seed's run of the {role} wildcard."""
    return [f"{P}/{_fb_retrain_path('{role}', s)}/metrics.json" for s in seeds]

FB_SEARCHES = ["A_joint", "B_joint", "A_arch_only", "A_autotrain"]
# retrain role -> (arch from, recipe from): a search's best.json, or "" (AutoTrain's fixed
# arch / the default recipe)
from nasrepro.papers.fbnetv3.grid import ROLE_SOURCES as FB_ROLES  # noqa: E402
# retrain runs: one per seed of the role (swap roles: fbnetv3.retrain_seeds; the others:
# fbnetv3.display_retrain_seeds; both default to the profile's seeds)
from nasrepro.papers.fbnetv3.grid import role_retrain_seeds  # noqa: E402

FB_SWAP_SEEDS = role_retrain_seeds(config, "swap/")
FB_DISPLAY_SEEDS = role_retrain_seeds(config, "autotrain/")
FB_METRICS = [f"{P}/{_fb_retrain_path(role, s)}/metrics.json" for role in FB_ROLES
              for s in role_retrain_seeds(config, role)]


def fb_retrain_input(wc):
    """Splits, plus the best.json files the role takes its arch / recipe from."""
    inputs = {"splits": SPLITS}
    arch_from, recipe_from = FB_ROLES[wc.role]
    if arch_from:
        inputs["arch"] = f"{fb_search_dir(arch_from)}/best.json"
    if recipe_from:
        inputs["recipe"] = f"{fb_search_dir(recipe_from)}/best.json"
    return inputs
