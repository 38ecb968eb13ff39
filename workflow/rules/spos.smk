# SPOS (Guo et al. 2019): supernets -> searches -> retraining -> Tables 3/4 and figures.
# See nasrepro/papers/spos/experiment.py for the roles of the retrained archs; the grid and paths are
# in spos_dag.smk.


include: "spos_dag.smk"


wildcard_constraints:
    supernet="block|channel|block_channel",
    seed=r"\d+",
    sampler=r"[A-Za-z0-9_\-]+",
    searcher=r"[A-Za-z0-9_\-]+",


rule spos_train_supernet:
    """Train a single-path supernet with one sampler and seed (SPOS Sec. 3.2)."""
    input:
        SPLITS,
    output:
        f"{spos_supernet_dir('{supernet}', '{sampler}', '{seed}')}/supernet.pt",
        f"{spos_supernet_dir('{supernet}', '{sampler}', '{seed}')}/log.csv",
    params:
        config=JOB_CONFIG,
        config_hash=CFG_HASH["spos"],
        out=lambda wc, output: Path(output[0]).parent,
    log:
        f"{LOGS}/spos/train_supernet/{{supernet}}_{{sampler}}_{{seed}}.log",
    benchmark:
        f"{BENCH}/spos/train_supernet/{{supernet}}_{{sampler}}_{{seed}}.tsv"
    threads: THREADS
    resources:
        gpu=GPU,
    conda:
        "../../environment.yml"
    shell:
        "nasrepro train-supernet {params.config} --config-hash {params.config_hash} --paper spos"
        " --cell {wildcards.supernet}/{wildcards.sampler} --seed {wildcards.seed}"
        " --out {params.out} 2>&1 | tee {log}"


rule spos_search:
    """Search a trained supernet (evolution = Algorithm 1, or random) under the MACs limit."""
    input:
        supernet=f"{spos_supernet_dir('{supernet}', '{sampler}', '{seed}')}/supernet.pt",
    output:
        best=f"{spos_search_dir('{supernet}', '{sampler}', '{searcher}', '{seed}')}/best.json",
        curve=f"{spos_search_dir('{supernet}', '{sampler}', '{searcher}', '{seed}')}/curve.csv",
        archs=f"{spos_search_dir('{supernet}', '{sampler}', '{searcher}', '{seed}')}/archs.jsonl",
    params:
        config=JOB_CONFIG,
        config_hash=CFG_HASH["spos"],
        inputs=input_flags,
        out=lambda wc, output: Path(output.best).parent,
    log:
        f"{LOGS}/spos/search/{{supernet}}_{{sampler}}_{{seed}}_{{searcher}}.log",
    benchmark:
        f"{BENCH}/spos/search/{{supernet}}_{{sampler}}_{{seed}}_{{searcher}}.tsv"
    threads: THREADS
    resources:
        gpu=GPU,
    conda:
        "../../environment.yml"
    shell:
        "nasrepro search {params.config} --config-hash {params.config_hash} --paper spos"
        " --cell {wildcards.supernet}/{wildcards.sampler}/{wildcards.searcher}"
        " --seed {wildcards.seed} {params.inputs} --out {params.out} 2>&1 | tee {log}"


rule spos_retrain:
    """Retrain one arch (fixed, random, or a search result) from scratch with its seed
    (SPOS Sec. 4); writes arch.json, metrics.json, log.csv and provenance."""
    input:
        unpack(_spos_retrain_input),
    output:
        f"{P}/{retrain_path('{role}', '{seed}')}/metrics.json",
    wildcard_constraints:
        role=r"(fixed|random|search)/[A-Za-z0-9_\-/]+",
    params:
        config=JOB_CONFIG,
        config_hash=CFG_HASH["spos"],
        out=lambda wc, output: Path(output[0]).parent,
        inputs=input_flags,
    log:
        f"{LOGS}/spos/retrain/{{role}}_{{seed}}.log",
    benchmark:
        f"{BENCH}/spos/retrain/{{role}}_{{seed}}.tsv"
    threads: THREADS
    resources:
        gpu=GPU,
    conda:
        "../../environment.yml"
    shell:
        "nasrepro retrain {params.config} --config-hash {params.config_hash} --paper spos"
        " --cell {wildcards.role} --seed {wildcards.seed} {params.inputs}"
        " --out {params.out} 2>&1 | tee {log}"


rule spos_inherit:
    """Supernet-inherited accuracy of every retrained arch (claim S4, Kendall tau)."""
    input:
        metrics=SPOS_METRICS,
        block=f"{spos_first_supernet_dir('block')}/supernet.pt",
        block_channel=f"{spos_first_supernet_dir('block_channel')}/supernet.pt",
    output:
        SPOS_INHERIT,
    params:
        config=JOB_CONFIG,
        config_hash=CFG_HASH["spos"],
        inputs=input_flags,
        out=lambda wc, output: Path(output[0]).parent,
    log:
        f"{LOGS}/spos/inherit.log",
    benchmark:
        f"{BENCH}/spos/inherit.tsv"
    threads: THREADS
    conda:
        "../../environment.yml"
    shell:
        "nasrepro study spos inherit {params.config} --config-hash {params.config_hash}"
        " {params.inputs} --out {params.out} 2>&1 | tee {log}"


# What the paper's tables and figures read (rules tables and figures in report.smk)
TABLE_INPUTS["spos"] = [*SPOS_METRICS, SPOS_INHERIT, *SPOS_SEARCH_RUNS]
FIGURE_INPUTS["spos"] = [*SPOS_CURVES, SPOS_INHERIT]
