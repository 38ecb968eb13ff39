# AttentiveNAS (Wang et al. 2021): MACs prior -> sandwich supernets per sampler and seed (+ a short
# run) -> fixed-subnet evaluation + Pareto search -> predictor study -> tables and figures.
# See nasrepro/papers/attentivenas/experiment.py for the steps; the grid and paths are in
# attentivenas_dag.smk.


include: "attentivenas_dag.smk"


rule attentivenas_prior:
    """The space's MACs prior p(MACs), the report's MACs buckets and the fixed subnet set,
    built once per preset (AttentiveNAS Sec. 3.2)."""
    output:
        AN_PRIOR,
    params:
        config=JOB_CONFIG,
        config_hash=CFG_HASH["attentivenas"],
        out=lambda wc, output: Path(output[0]).parent,
    log:
        f"{LOGS}/attentivenas/prior.log",
    benchmark:
        f"{BENCH}/attentivenas/prior.tsv"
    threads: THREADS
    conda:
        "../../environment.yml"
    shell:
        "nasrepro study attentivenas prior {params.config} --config-hash {params.config_hash}"
        " --out {params.out} 2>&1 | tee {log}"


rule attentivenas_train_supernet:
    """Train one sandwich supernet (main or short) with one sampler and seed."""
    input:
        unpack(an_train_inputs),
    output:
        f"{an_dir('{training}', '{sampler}', '{seed}')}/supernet.pt",
        f"{an_dir('{training}', '{sampler}', '{seed}')}/log.csv",
        f"{an_dir('{training}', '{sampler}', '{seed}')}/sampled_macs.csv",
    wildcard_constraints:
        training="main|short",
    params:
        config=JOB_CONFIG,
        config_hash=CFG_HASH["attentivenas"],
        inputs=input_flags,
        out=lambda wc, output: Path(output[0]).parent,
    log:
        f"{LOGS}/attentivenas/train_supernet/{{training}}_{{sampler}}_{{seed}}.log",
    benchmark:
        f"{BENCH}/attentivenas/train_supernet/{{training}}_{{sampler}}_{{seed}}.tsv"
    threads: THREADS
    resources:
        gpu=GPU,
    conda:
        "../../environment.yml"
    shell:
        "nasrepro train-supernet {params.config} --config-hash {params.config_hash}"
        " --paper attentivenas --cell {wildcards.training}/{wildcards.sampler}"
        " --seed {wildcards.seed} {params.inputs} --out {params.out} 2>&1 | tee {log}"


rule attentivenas_search:
    """Evaluate the fixed subnet set on a main supernet (batched BN recalibration) and run the
    Pareto evolutionary search (accuracy vs MACs)."""
    input:
        prior=AN_PRIOR_JSON,
        supernet=f"{an_dir('main', '{sampler}', '{seed}')}/supernet.pt",
    output:
        f"{an_eval_dir('main', '{sampler}', '{seed}')}/subnets.csv",
        f"{an_eval_dir('main', '{sampler}', '{seed}')}/archs.jsonl",
        f"{an_eval_dir('main', '{sampler}', '{seed}')}/curve.csv",
    params:
        config=JOB_CONFIG,
        config_hash=CFG_HASH["attentivenas"],
        inputs=input_flags,
        out=lambda wc, output: Path(output[0]).parent,
    log:
        f"{LOGS}/attentivenas/search/{{sampler}}_{{seed}}.log",
    benchmark:
        f"{BENCH}/attentivenas/search/{{sampler}}_{{seed}}.tsv"
    threads: THREADS
    resources:
        gpu=GPU,
    conda:
        "../../environment.yml"
    shell:
        "nasrepro search {params.config} --config-hash {params.config_hash}"
        " --paper attentivenas --cell main/{wildcards.sampler} --seed {wildcards.seed}"
        " {params.inputs} --out {params.out} 2>&1 | tee {log}"


rule attentivenas_short_eval:
    """Evaluate the fixed subnet set on the short supernet (predictor study, short vs long)."""
    input:
        prior=AN_PRIOR_JSON,
        supernet=f"{an_dir('short', '{sampler}', '{seed}')}/supernet.pt",
    output:
        f"{an_eval_dir('short', '{sampler}', '{seed}')}/subnets.csv",
    params:
        config=JOB_CONFIG,
        config_hash=CFG_HASH["attentivenas"],
        inputs=input_flags,
        out=lambda wc, output: Path(output[0]).parent,
    log:
        f"{LOGS}/attentivenas/short_eval/{{sampler}}_{{seed}}.log",
    benchmark:
        f"{BENCH}/attentivenas/short_eval/{{sampler}}_{{seed}}.tsv"
    threads: THREADS
    resources:
        gpu=GPU,
    conda:
        "../../environment.yml"
    shell:
        "nasrepro search {params.config} --config-hash {params.config_hash}"
        " --paper attentivenas --cell short/{wildcards.sampler} --seed {wildcards.seed}"
        " {params.inputs} --out {params.out} 2>&1 | tee {log}"


rule attentivenas_predictor:
    """Predictor study (claim A3): RF Kendall tau on held-out subnets, short-vs-long and
    seed-vs-seed rank agreement."""
    input:
        unpack(an_predictor_inputs),
    output:
        AN_PREDICTOR_JSON,
    params:
        config=JOB_CONFIG,
        config_hash=CFG_HASH["attentivenas"],
        inputs=input_flags,
        out=lambda wc, output: Path(output[0]).parent,
    log:
        f"{LOGS}/attentivenas/predictor.log",
    benchmark:
        f"{BENCH}/attentivenas/predictor.tsv"
    threads: THREADS
    conda:
        "../../environment.yml"
    shell:
        "nasrepro study attentivenas predictor {params.config}"
        " --config-hash {params.config_hash} {params.inputs} --out {params.out} 2>&1 | tee {log}"


# What the paper's tables and figures read (rules tables and figures in report.smk)
TABLE_INPUTS["attentivenas"] = [*AN_PRIOR, *AN_MAIN_EVALS, *AN_SEARCHES, AN_PREDICTOR_JSON]
FIGURE_INPUTS["attentivenas"] = [*AN_PRIOR, *AN_MAIN_EVALS, *AN_SEARCHES, *AN_SAMPLED, AN_PREDICTOR_JSON]
