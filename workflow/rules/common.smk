# Rules shared by every paper: the dataset splits.
DATASET = config["data"]["dataset"]
SPLITS = f"{P}/data/{DATASET}/splits.json"
SEEDS = config["seeds"]
LOGS = f"{P}/logs"
BENCH = f"{P}/benchmarks"
THREADS = config["threads"]
PAPER_DIR = f"{config['paper_dir']}/{config['profile']}"  # committed reference results


rule data:
    """Fetch/check the dataset and write the fixed train/val/test splits with its checksum."""
    output:
        SPLITS,
    log:
        f"{LOGS}/data.log",
    benchmark:
        f"{BENCH}/data.tsv"
    params:
        cfg=CFG,
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../../environment.yml"
    shell:
        "nasrepro data --config-file {params.cfg} --out {output} 2>&1 | tee {log}"
