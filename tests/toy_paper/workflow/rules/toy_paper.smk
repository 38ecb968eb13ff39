# A toy fifth paper (tests/test_fifth_paper.py): one search job per cell and seed.
from nasrepro.papers.toy_paper.grid import CELLS as TOY_CELLS  # noqa: E402
from nasrepro.papers.toy_paper.grid import search_path as toy_search_path  # noqa: E402


rule toy_paper_search:
    """A seeded value per cell and seed."""
    output:
        f"{P}/{toy_search_path('{cell}', '{seed}')}/result.json",
    wildcard_constraints:
        cell="|".join(TOY_CELLS),
    params:
        config=JOB_CONFIG,
        config_hash=CFG_HASH["toy_paper"],
        out=lambda wc, output: Path(output[0]).parent,
    log:
        f"{LOGS}/toy_paper/search/{{cell}}_{{seed}}.log",
    benchmark:
        f"{BENCH}/toy_paper/search/{{cell}}_{{seed}}.tsv"
    shell:
        "nasrepro search {params.config} --config-hash {params.config_hash} --paper toy_paper"
        " --cell {wildcards.cell} --seed {wildcards.seed} --out {params.out} 2>&1 | tee {log}"


TABLE_INPUTS["toy_paper"] = [f"{P}/{toy_search_path(c, s)}/result.json" for c in TOY_CELLS
                             for s in SEEDS]
FIGURE_INPUTS["toy_paper"] = TABLE_INPUTS["toy_paper"]
