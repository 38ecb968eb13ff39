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


rule darts_snas_tables:
    """Child accuracy without retraining, retrain (error, params, MACs, search cost), penalty
    tables; the measurements and leaderboard CSVs."""
    input:
        DS_FINALS,
        DS_METRICS,
    output:
        report(DS_TABLES, category="SNAS vs DARTS", caption="../report/darts_snas_tables.rst"),
        DS_EXTRA_CSV,
    log:
        f"{LOGS}/darts_snas/tables.log",
    benchmark:
        f"{BENCH}/darts_snas/tables.tsv"
    params:
        config=JOB_CONFIG,
        config_hash=CFG_HASH["darts_snas"],
        out=lambda wc, output: Path(output[0]).parent,
    conda:
        "../../environment.yml"
    shell:
        "nasrepro table {params.config} --config-hash {params.config_hash}"
        " --paper darts_snas --out-dir {params.out}"
        " 2>&1 | tee {log}"


rule darts_snas_figures:
    """Fig 9 (search curves), Fig 10 (child accuracy), Fig 11 (entropy), Fig 12 (cells)."""
    input:
        DS_FINALS,
    output:
        report(DS_FIGURES, category="SNAS vs DARTS", caption="../report/darts_snas_figures.rst"),
    log:
        f"{LOGS}/darts_snas/figures.log",
    benchmark:
        f"{BENCH}/darts_snas/figures.tsv"
    params:
        config=JOB_CONFIG,
        config_hash=CFG_HASH["darts_snas"],
        out=lambda wc, output: Path(output[0]).parent,
    conda:
        "../../environment.yml"
    shell:
        "nasrepro figure {params.config} --config-hash {params.config_hash}"
        " --paper darts_snas --out-dir {params.out}"
        " 2>&1 | tee {log}"


rule darts_snas:
    """Target: every SNAS vs DARTS table and figure of the profile."""
    input:
        DS_TABLES,
        DS_EXTRA_CSV,
        DS_FIGURES,


rule paper_darts_snas:
    """Copy the SNAS vs DARTS tables, figures and provenance into paper/<profile>/darts_snas."""
    input:
        DS_TABLES,
        DS_EXTRA_CSV,
        DS_FIGURES,
    output:
        directory(f"{PAPER_DIR}/darts_snas"),
    params:
        config=JOB_CONFIG,
        config_hash=CFG_HASH["darts_snas"],
    log:
        f"{LOGS}/darts_snas/paper.log",
    benchmark:
        f"{BENCH}/paper_darts_snas.tsv"
    conda:
        "../../environment.yml"
    shell:
        "nasrepro collect {params.config} --config-hash {params.config_hash}"
        " --paper darts_snas --out-dir {output}"
        " 2>&1 | tee {log}"


PAPER_TARGETS["darts_snas"] = rules.darts_snas.input
PAPER_OUTPUTS["darts_snas"] = rules.paper_darts_snas.output
