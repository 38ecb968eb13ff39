# SPOS (Guo et al. 2019): supernets -> searches -> retraining -> Tables 3/4 and figures.
# See nasrepro/experiments/spos.py for the roles of the retrained archs.
SP = config["spos"]
R_SPOS = f"{P}/spos"
MAIN_SAMPLER = SP["main_sampler"]
MAIN_SEARCHER = SP["main_searcher"]
GPU = 1 if config["device"].startswith("cuda") else 0


def spos_search_roles():
    """search/<supernet>/<sampler>/<searcher> of every retrained search result."""
    roles = [f"search/block/{s}/{q}" for s in SP["samplers"] for q in SP["searchers"]]
    for supernet in ("channel", "block_channel"):
        roles.append(f"search/{supernet}/{MAIN_SAMPLER}/{MAIN_SEARCHER}")
    return roles


def spos_runs():
    """(role, run index) of every retrain run of Tables 3 and 4."""
    runs = []
    for name in ("all_choice_3", "all_choice_5", "all_choice_7", "all_choice_x"):
        runs += [(f"fixed/{name}", i) for i in range(len(SEEDS))]
    for supernet in ("block", "channel", "block_channel"):
        runs += [(f"random/{supernet}", i) for i in range(SP["n_random"])]
    for role in spos_search_roles():
        runs += [(role, i) for i in range(len(SEEDS))]
    return runs


def spos_run_dir(role, index):
    return f"{R_SPOS}/retrain/{role}/run{index}"


def spos_supernet_dir(supernet, sampler, seed):
    return f"{R_SPOS}/{supernet}/{sampler}/seed{seed}"


SPOS_METRICS = [f"{spos_run_dir(r, i)}/metrics.json" for r, i in spos_runs()]
SPOS_CURVES = [
    f"{spos_supernet_dir('block', s, seed)}/search/{q}/curve.csv"
    for s in SP["samplers"] for q in SP["searchers"] for seed in SEEDS
]
SPOS_TABLES = expand(f"{P}/tables/spos_table{{n}}.{{ext}}", n=[3, 4], ext=["csv", "md", "tex"])
SPOS_DATA = [f"{P}/tables/spos_measurements.csv", f"{P}/tables/spos_leaderboard.csv"]
SPOS_FIGURES = expand(f"{P}/figures/spos_{{name}}.{{ext}}",
                      name=["search_curve", "supernet_vs_standalone"], ext=["pdf", "png"])


wildcard_constraints:
    supernet="block|channel|block_channel",
    seed=r"\d+",
    index=r"\d+",
    sampler=r"[A-Za-z0-9_\-]+",
    searcher=r"[A-Za-z0-9_\-]+",


rule spos_train_supernet:
    """Train a single-path supernet with one sampler and seed (SPOS Sec. 3.2)."""
    input:
        SPLITS,
    output:
        f"{R_SPOS}/{{supernet}}/{{sampler}}/seed{{seed}}/supernet.pt",
        f"{R_SPOS}/{{supernet}}/{{sampler}}/seed{{seed}}/log.csv",
    log:
        f"{LOGS}/spos/train_supernet/{{supernet}}_{{sampler}}_{{seed}}.log",
    benchmark:
        f"{BENCH}/spos/train_supernet/{{supernet}}_{{sampler}}_{{seed}}.tsv"
    threads: THREADS
    resources:
        mem_mb=4000,
        runtime=600,
        gpu=GPU,
    shell:
        "nasrepro train-supernet --config-file {CFG} --paper spos --supernet {wildcards.supernet}"
        " --sampler {wildcards.sampler} --seed {wildcards.seed}"
        " --out {R_SPOS}/{wildcards.supernet}/{wildcards.sampler}/seed{wildcards.seed}"
        " 2>&1 | tee {log}"


rule spos_search:
    """Search a trained supernet (evolution = Algorithm 1, or random) under the MACs limit."""
    input:
        f"{R_SPOS}/{{supernet}}/{{sampler}}/seed{{seed}}/supernet.pt",
    output:
        best=f"{R_SPOS}/{{supernet}}/{{sampler}}/seed{{seed}}/search/{{searcher}}/best.json",
        curve=f"{R_SPOS}/{{supernet}}/{{sampler}}/seed{{seed}}/search/{{searcher}}/curve.csv",
        archs=f"{R_SPOS}/{{supernet}}/{{sampler}}/seed{{seed}}/search/{{searcher}}/archs.jsonl",
    log:
        f"{LOGS}/spos/search/{{supernet}}_{{sampler}}_{{seed}}_{{searcher}}.log",
    benchmark:
        f"{BENCH}/spos/search/{{supernet}}_{{sampler}}_{{seed}}_{{searcher}}.tsv"
    threads: THREADS
    resources:
        mem_mb=4000,
        runtime=600,
        gpu=GPU,
    shell:
        "nasrepro search --config-file {CFG} --paper spos --supernet {wildcards.supernet}"
        " --supernet-dir {R_SPOS}/{wildcards.supernet}/{wildcards.sampler}/seed{wildcards.seed}"
        " --searcher {wildcards.searcher} --seed {wildcards.seed}"
        " --out {R_SPOS}/{wildcards.supernet}/{wildcards.sampler}/seed{wildcards.seed}/search/{wildcards.searcher}"
        " 2>&1 | tee {log}"


def _spos_retrain_input(wc):
    inputs = {"splits": SPLITS}
    if wc.role.startswith("search/"):
        _, supernet, sampler, searcher = wc.role.split("/")
        seed = SEEDS[int(wc.index)]
        inputs["best"] = f"{spos_supernet_dir(supernet, sampler, seed)}/search/{searcher}/best.json"
    return inputs


def _spos_search_flag(wc, input):
    return f"--search-best {input.best}" if "best" in input.keys() else ""


rule spos_retrain:
    """Retrain one arch (fixed, random, or a search result) from scratch with its seed
    (SPOS Sec. 4); writes arch.json, metrics.json, log.csv and provenance."""
    input:
        unpack(_spos_retrain_input),
    output:
        f"{R_SPOS}/retrain/{{role}}/run{{index}}/metrics.json",
    wildcard_constraints:
        role=r"(fixed|random|search)/[A-Za-z0-9_\-/]+",
    params:
        flag=_spos_search_flag,
    log:
        f"{LOGS}/spos/retrain/{{role}}_{{index}}.log",
    benchmark:
        f"{BENCH}/spos/retrain/{{role}}_{{index}}.tsv"
    threads: THREADS
    resources:
        mem_mb=4000,
        runtime=600,
        gpu=GPU,
    shell:
        "nasrepro retrain --config-file {CFG} --paper spos --role {wildcards.role}"
        " --index {wildcards.index} {params.flag}"
        " --out {R_SPOS}/retrain/{wildcards.role}/run{wildcards.index} 2>&1 | tee {log}"


rule spos_inherit:
    """Supernet-inherited accuracy of every retrained arch (claim S4, Kendall tau)."""
    input:
        metrics=SPOS_METRICS,
        block=f"{spos_supernet_dir('block', MAIN_SAMPLER, SEEDS[0])}/supernet.pt",
        block_channel=f"{spos_supernet_dir('block_channel', MAIN_SAMPLER, SEEDS[0])}/supernet.pt",
    output:
        f"{R_SPOS}/inherit.csv",
    params:
        runs=lambda wc, input: " ".join(str(Path(m).parent) for m in input.metrics),
    log:
        f"{LOGS}/spos/inherit.log",
    benchmark:
        f"{BENCH}/spos/inherit.tsv"
    threads: THREADS
    resources:
        mem_mb=4000,
        runtime=120,
    shell:
        "nasrepro inherit --config-file {CFG} --paper spos"
        " --block-supernet {R_SPOS}/block/{MAIN_SAMPLER}/seed{SEEDS[0]}"
        " --block-channel-supernet {R_SPOS}/block_channel/{MAIN_SAMPLER}/seed{SEEDS[0]}"
        " --out {output} {params.runs} 2>&1 | tee {log}"


rule spos_tables:
    """SPOS Table 3 (block search) and Table 4 (channel search): MACs, params, top-1 mean ± std."""
    input:
        SPOS_METRICS,
        f"{R_SPOS}/inherit.csv",
    output:
        report(SPOS_TABLES, category="SPOS", caption="../report/spos_tables.rst"),
        SPOS_DATA,
    log:
        f"{LOGS}/spos/tables.log",
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "nasrepro table --config-file {CFG} --paper spos --out-dir {P}/tables 2>&1 | tee {log}"


rule spos_figures:
    """Search curves (evolution vs random) and supernet-inherited vs standalone accuracy."""
    input:
        SPOS_CURVES,
        f"{R_SPOS}/inherit.csv",
    output:
        report(SPOS_FIGURES, category="SPOS", caption="../report/spos_figures.rst"),
    log:
        f"{LOGS}/spos/figures.log",
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "nasrepro figure --config-file {CFG} --paper spos --out-dir {P}/figures 2>&1 | tee {log}"


rule spos:
    """Target: every SPOS table and figure of the profile."""
    input:
        SPOS_TABLES,
        SPOS_DATA,
        SPOS_FIGURES,


rule paper_spos:
    """Copy the SPOS tables, figures and provenance into paper/<profile>/spos (committed for
    the default profile)."""
    input:
        SPOS_TABLES,
        SPOS_DATA,
        SPOS_FIGURES,
    output:
        directory(f"{PAPER_DIR}/spos"),
    log:
        f"{LOGS}/spos/paper.log",
    shell:
        "nasrepro collect --config-file {CFG} --paper spos --out-dir {output} 2>&1 | tee {log}"


PAPER_OUTPUTS["spos"] = rules.paper_spos.output
PAPER_TARGETS["spos"] = rules.spos.input
