# FBNetV3 (Dai et al. 2021): proxy pretraining -> joint / arch-only / AutoTrain searches ->
# predictor study -> retraining (recipe swap, AutoTrain, search comparison) -> tables, figures.
# See nasrepro/papers/fbnetv3/experiment.py for the steps, nasrepro/papers/fbnetv3/tables.py for the
# outputs; the grid and paths are in fbnetv3_dag.smk.


include: "fbnetv3_dag.smk"


rule fbnetv3_pretrain:
    """Pretrain the predictor's encoder + proxy head on random archs (free MACs/params labels)."""
    output:
        FB_PROXY,
    params:
        config=JOB_CONFIG,
        config_hash=CFG_HASH["fbnetv3"],
        out=lambda wc, output: Path(output[0]).parent,
    log:
        f"{LOGS}/fbnetv3/pretrain.log",
    benchmark:
        f"{BENCH}/fbnetv3/pretrain.tsv"
    threads: THREADS
    conda:
        "../../environment.yml"
    shell:
        "nasrepro study fbnetv3 pretrain {params.config} --config-hash {params.config_hash}"
        " --out {params.out} 2>&1 | tee {log}"


rule fbnetv3_search:
    """Sobol pool under the budget, coarse stage with early stopping, predictor-scored fine
    evolution (mode joint, arch_only or autotrain)."""
    input:
        splits=SPLITS,
        proxy=FB_PROXY,
    output:
        best=f"{fb_search_dir('{budget}_{mode}')}/best.json",
        summary=f"{fb_search_dir('{budget}_{mode}')}/summary.json",
        cands=f"{fb_search_dir('{budget}_{mode}')}/candidates.jsonl",
        early=f"{fb_search_dir('{budget}_{mode}')}/early_stop.csv",
        coarse=f"{fb_search_dir('{budget}_{mode}')}/coarse.csv",
    wildcard_constraints:
        budget="A|B",
        mode="joint|arch_only|autotrain",
    params:
        config=JOB_CONFIG,
        config_hash=CFG_HASH["fbnetv3"],
        seed=FB["search_seed"],
        inputs=input_flags,
        out=lambda wc, output: Path(output.best).parent,
    log:
        f"{LOGS}/fbnetv3/search/{{budget}}_{{mode}}.log",
    benchmark:
        f"{BENCH}/fbnetv3/search/{{budget}}_{{mode}}.tsv"
    threads: THREADS
    resources:
        gpu=GPU,
    conda:
        "../../environment.yml"
    shell:
        "nasrepro search {params.config} --config-hash {params.config_hash} --paper fbnetv3"
        " --cell {wildcards.budget}_{wildcards.mode} --seed {params.seed} {params.inputs}"
        " --out {params.out} 2>&1 | tee {log}"


rule fbnetv3_predictor:
    """Predictor ranking quality on held-out measured candidates of the joint searches."""
    input:
        proxy=FB_PROXY,
        search=[f"{fb_search_dir(s)}/candidates.jsonl" for s in ("A_joint", "B_joint")],
    output:
        runs=f"{FB_PREDICTOR_DIR}/predictor_runs.csv",
        preds=f"{FB_PREDICTOR_DIR}/predictions.csv",
    params:
        config=JOB_CONFIG,
        config_hash=CFG_HASH["fbnetv3"],
        out=lambda wc, output: Path(output.runs).parent,
        inputs=input_flags,
    log:
        f"{LOGS}/fbnetv3/predictor.log",
    benchmark:
        f"{BENCH}/fbnetv3/predictor.tsv"
    threads: THREADS
    conda:
        "../../environment.yml"
    shell:
        "nasrepro study fbnetv3 predictor {params.config} --config-hash {params.config_hash}"
        " {params.inputs} --out {params.out} 2>&1 | tee {log}"


rule fbnetv3_retrain:
    """Retrain an arch from scratch with a recipe, once per seed of fbnetv3.retrain_seeds
    (recipe swap); one job per role (the runs are short: process start-up would dominate)."""
    input:
        unpack(fb_retrain_input),
    output:
        fb_retrain_outputs(FB_SWAP_SEEDS),
    wildcard_constraints:
        role="|".join(r for r in FB_ROLES if r.startswith("swap/")),
    params:
        config=JOB_CONFIG,
        config_hash=CFG_HASH["fbnetv3"],
        out=lambda wc, output: Path(output[0]).parent.parent,
        inputs=input_flags,
    log:
        f"{LOGS}/fbnetv3/retrain/{{role}}.log",
    benchmark:
        f"{BENCH}/fbnetv3/retrain/{{role}}.tsv"
    threads: THREADS
    resources:
        gpu=GPU,
    conda:
        "../../environment.yml"
    shell:
        "nasrepro retrain {params.config} --config-hash {params.config_hash} --paper fbnetv3"
        " --cell {wildcards.role} {params.inputs} --out {params.out} 2>&1 | tee {log}"


use rule fbnetv3_retrain as fbnetv3_retrain_display with:
    output:
        fb_retrain_outputs(FB_DISPLAY_SEEDS),
    wildcard_constraints:
        role="|".join(r for r in FB_ROLES if not r.startswith("swap/")),


# What the paper's tables and figures read (rules tables and figures in report.smk)
TABLE_INPUTS["fbnetv3"] = [*FB_METRICS, FB_PROXY, f"{FB_PREDICTOR_DIR}/predictor_runs.csv",
    *[f"{fb_search_dir(s)}/summary.json" for s in FB_SEARCHES]]
FIGURE_INPUTS["fbnetv3"] = [f"{FB_PREDICTOR_DIR}/predictions.csv",
    *[f"{fb_search_dir(s)}/{name}" for s in FB_SEARCHES
      for name in ("coarse.csv", "early_stop.csv")]]
