# AttentiveNAS DAG helpers (no rules; `snakemake --lint` wants rules and functions in separate
# files): the grid of supernets (sampler x seed, plus the short run) and their paths.
from nasrepro.papers.attentivenas.grid import PREDICTOR_DIR as _AN_PREDICTOR_DIR  # noqa: E402
from nasrepro.papers.attentivenas.grid import PRIOR_DIR as _AN_PRIOR_DIR  # noqa: E402
from nasrepro.papers.attentivenas.grid import eval_path as _an_eval_path  # noqa: E402
from nasrepro.papers.attentivenas.grid import supernet_path as _an_supernet_path  # noqa: E402

AN = config["attentivenas"]
AN_PRIOR = [f"{P}/{_AN_PRIOR_DIR}/prior.json", f"{P}/{_AN_PRIOR_DIR}/subnets.json"]
AN_PRIOR_JSON = AN_PRIOR[0]
AN_PRED_SAMPLER = AN["predictor"]["sampler"]
AN_SAMPLERS = methods_of(config, "attentivenas", "sampler")
AN_SEEDS = seeds_of(config, "attentivenas")  # attentivenas.seeds, else the profile's seeds


def an_dir(training, sampler, seed):
    """results/<profile>/attentivenas/train_supernet/<main|short>/<sampler>/seed<seed>"""
    return f"{P}/{_an_supernet_path(training, sampler, seed)}"


def an_eval_dir(training, sampler, seed):
    """results/<profile>/attentivenas/search/<main|short>/<sampler>/seed<seed>"""
    return f"{P}/{_an_eval_path(training, sampler, seed)}"


def an_train_inputs(wc):
    """The prior; with the predictor scorer, attentive samplers also need the short run's
    subnet accuracies (their random forest is fitted on them)."""
    inputs = {"splits": SPLITS, "prior": AN_PRIOR_JSON}
    if AN["attentive"]["scorer"] == "predictor" and wc.sampler != "uniform":
        inputs["short_eval"] = AN_SHORT_EVAL
    return inputs


def an_predictor_inputs(wc):
    """The prior and the subnet accuracies the predictor study compares: the main supernets
    of the first two seeds (their Pareto search candidates too) and the short one."""
    main = [f"{an_eval_dir('main', AN_PRED_SAMPLER, s)}/subnets.csv" for s in AN_SEEDS[:2]]
    search = f"{an_eval_dir('main', AN_PRED_SAMPLER, AN_SEEDS[0])}/archs.jsonl"
    return {"prior": AN_PRIOR_JSON, "main": main, "short": AN_SHORT_EVAL,
            "subnet_set": f"{P}/{_AN_PRIOR_DIR}/subnets.json", "search": search}


AN_MAIN_EVALS = [f"{an_eval_dir('main', s, seed)}/subnets.csv"
                 for s in AN_SAMPLERS for seed in AN_SEEDS]
AN_SEARCHES = [f"{an_eval_dir('main', s, seed)}/archs.jsonl"
               for s in AN_SAMPLERS for seed in AN_SEEDS]
AN_SAMPLED = [f"{an_dir('main', s, seed)}/sampled_macs.csv"
              for s in AN_SAMPLERS for seed in AN_SEEDS]
AN_SHORT_EVAL = f"{an_eval_dir('short', AN_PRED_SAMPLER, AN_SEEDS[0])}/subnets.csv"
AN_PREDICTOR_JSON = f"{P}/{_AN_PREDICTOR_DIR}/predictor.json"
