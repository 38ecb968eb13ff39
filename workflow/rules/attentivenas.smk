# AttentiveNAS (Wang et al. 2021): its own steps, the MACs prior and the predictor study. Its
# supernets and their evaluations/searches are the rules attentivenas_{train_supernet,search}
# of stages.smk, from its grid (nasrepro/papers/attentivenas/grid.py).
from nasrepro.papers.attentivenas.grid import PREDICTOR_JSON as _AN_PREDICTOR  # noqa: E402
from nasrepro.papers.attentivenas.grid import PRIOR_JSON as _AN_PRIOR  # noqa: E402
from nasrepro.papers.attentivenas.grid import SUBNETS_JSON as _AN_SUBNETS  # noqa: E402
from nasrepro.papers.attentivenas.grid import predictor_inputs as _an_predictor_inputs  # noqa: E402
from nasrepro.papers.attentivenas.grid import COMMON_CSV as _AN_COMMON  # noqa: E402
from nasrepro.papers.attentivenas.grid import common_inputs as _an_common_inputs  # noqa: E402


rule attentivenas_prior:
    """The space's MACs prior p(MACs), the report's MACs buckets and the fixed subnet set,
    built once per preset (AttentiveNAS Sec. 3.2)."""
    output:
        in_profile(_AN_PRIOR),
        in_profile(_AN_SUBNETS),
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


rule attentivenas_common:
    """Every main supernet evaluated on the common candidate set, the union of all main
    searches' candidates (issue 12: fronts of different samplers from the same archs)."""
    input:
        **{name: in_profile(v) for name, v in _an_common_inputs(config).items()},
    output:
        in_profile(_AN_COMMON),
    params:
        config=JOB_CONFIG,
        config_hash=CFG_HASH["attentivenas"],
        inputs=input_flags,
        out=lambda wc, output: Path(output[0]).parent,
    log:
        f"{LOGS}/attentivenas/common.log",
    benchmark:
        f"{BENCH}/attentivenas/common.tsv"
    threads: THREADS
    conda:
        "../../environment.yml"
    shell:
        "nasrepro study attentivenas common {params.config}"
        " --config-hash {params.config_hash} {params.inputs} --out {params.out} 2>&1 | tee {log}"


rule attentivenas_predictor:
    """Predictor study (claim A3): the configured predictor's Kendall tau on held-out subnets,
    short-vs-long and seed-vs-seed rank agreement."""
    input:
        **{name: in_profile(v) for name, v in _an_predictor_inputs(config).items()},
    output:
        in_profile(_AN_PREDICTOR),
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
