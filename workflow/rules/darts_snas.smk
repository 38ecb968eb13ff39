# SNAS vs DARTS (PAPERS.md section 2): searches (one per group and seed) -> retraining of the
# derived cells (and random cells) -> child-accuracy / retrain / penalty tables and Fig 9-12.
# Groups: see nasrepro/papers/darts_snas/experiment.py (darts-1st, darts-2nd, snas-<level>, random-cell);
# paths and helpers in darts_snas_dag.smk.


include: "darts_snas_dag.smk"


rule darts_snas_search:
    """DARTS (1st/2nd order) or SNAS search of one group and seed: supernet + architecture,
    per-epoch supernet/child accuracy, entropy, expected cost and derived arch."""
    input:
        SPLITS,
    output:
        final=f"{P}/{ds_search_path('{group}', '{seed}')}/final.json",
        log=f"{P}/{ds_search_path('{group}', '{seed}')}/log.csv",
        archs=f"{P}/{ds_search_path('{group}', '{seed}')}/archs.jsonl",
    wildcard_constraints:
        group="|".join(DS_SEARCH) if DS_SEARCH else "NONE",
        seed=r"\d+",
    log:
        f"{LOGS}/darts_snas/search/{{group}}_{{seed}}.log",
    benchmark:
        f"{BENCH}/darts_snas/search/{{group}}_{{seed}}.tsv"
    threads: THREADS
    resources:
        gpu=GPU,
    params:
        config=JOB_CONFIG,
        config_hash=CFG_HASH["darts_snas"],
        out=lambda wc, output: Path(output.final).parent,
    conda:
        "../../environment.yml"
    shell:
        "nasrepro search {params.config} --config-hash {params.config_hash} --paper darts_snas"
        " --cell {wildcards.group} --seed {wildcards.seed} --out {params.out} 2>&1 | tee {log}"


rule darts_snas_retrain:
    """Retrain a group's final derived cell (or random cell) from scratch with the evaluation
    protocol (cutout, drop path, auxiliary head) and the seed of the search it came from."""
    input:
        unpack(_ds_retrain_input),
    output:
        f"{P}/{ds_retrain_path('{group}', '{seed}')}/metrics.json",
    wildcard_constraints:
        group="|".join(DS_ALL) if DS_ALL else "NONE",
        seed=r"\d+",
    params:
        inputs=input_flags,
        config=JOB_CONFIG,
        config_hash=CFG_HASH["darts_snas"],
        out=lambda wc, output: Path(output[0]).parent,
    log:
        f"{LOGS}/darts_snas/retrain/{{group}}_{{seed}}.log",
    benchmark:
        f"{BENCH}/darts_snas/retrain/{{group}}_{{seed}}.tsv"
    threads: THREADS
    resources:
        gpu=GPU,
    conda:
        "../../environment.yml"
    shell:
        "nasrepro retrain {params.config} --config-hash {params.config_hash} --paper darts_snas"
        " --cell {wildcards.group} --seed {wildcards.seed} {params.inputs}"
        " --out {params.out} 2>&1 | tee {log}"


# What the paper's tables and figures read (rules tables and figures in report.smk)
TABLE_INPUTS["darts_snas"] = [*DS_FINALS, *DS_METRICS]
FIGURE_INPUTS["darts_snas"] = DS_FINALS
