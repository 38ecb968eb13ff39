# FBNetV3 (Dai et al. 2021): its own steps, the proxy pretraining and the predictor study. Its
# searches and retrains are the rules fbnetv3_{search,retrain} of stages.smk, from its grid
# (nasrepro/papers/fbnetv3/grid.py).
from nasrepro.papers.fbnetv3.grid import PREDICTOR_FILES as _FB_PREDICTOR  # noqa: E402
from nasrepro.papers.fbnetv3.grid import PROXY as _FB_PROXY  # noqa: E402
from nasrepro.papers.fbnetv3.grid import predictor_inputs as _fb_predictor_inputs  # noqa: E402


rule fbnetv3_pretrain:
    """Pretrain the predictor's encoder + proxy head on random archs (free MACs/params labels)."""
    output:
        in_profile(_FB_PROXY),
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


rule fbnetv3_predictor:
    """Predictor ranking quality on held-out measured candidates of the joint searches."""
    input:
        **{name: in_profile(v) for name, v in _fb_predictor_inputs(config).items()},
    output:
        in_profile(_FB_PREDICTOR),
    params:
        config=JOB_CONFIG,
        config_hash=CFG_HASH["fbnetv3"],
        out=lambda wc, output: Path(output[0]).parent,
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
