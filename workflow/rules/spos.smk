# SPOS (Guo et al. 2019): its own step. Its supernets, searches and retrains are the rules
# spos_{train_supernet,search,retrain} of stages.smk, from its grid (nasrepro/papers/spos/grid.py).
from nasrepro.papers.spos.grid import INHERIT_CSV, inherit_inputs  # noqa: E402


rule spos_inherit:
    """Supernet-inherited accuracy of every retrained arch (claim S4, Kendall tau)."""
    input:
        **{name: in_profile(v) for name, v in inherit_inputs(config).items()},
    output:
        in_profile(INHERIT_CSV),
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
