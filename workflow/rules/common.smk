# Rules shared by every paper: the resolved config every job reads, the dataset splits.
DATASET = config["data"]["dataset"]
SPLITS = f"{P}/data/{DATASET}/splits.json"
SEEDS = config["seeds"]
LOGS = f"{P}/logs"
BENCH = f"{P}/benchmarks"
THREADS = config["threads"]
PAPER_DIR = f"{config['paper_dir']}/{config['profile']}"  # committed reference results


rule resolved_config:
    """The resolved config (profile + --configfile/--config overrides + schema defaults) as
    results/<profile>/config.resolved.yaml, for reading and for hand-run steps
    (--config-file). Written by this job, never while the Snakefile is parsed: a dry run or a
    second snakemake invocation changes nothing. Rewritten when any key changes (params). No
    job reads it: each gets its config on its command line."""
    output:
        CFG,
    params:
        config_hash=CFG_HASH["file"],
    log:
        f"{LOGS}/resolved_config.log",
    localrule: True
    run:
        write_resolved_config(output[0], config, log[0])


rule data:
    """Fetch/check the dataset and write the fixed train/val/test splits with its checksum."""
    output:
        SPLITS,
    log:
        f"{LOGS}/data.log",
    benchmark:
        f"{BENCH}/data.tsv"
    params:
        config=JOB_CONFIG,
        config_hash=CFG_HASH["data"],
    conda:
        "../../environment.yml"
    shell:
        "nasrepro data {params.config} --config-hash {params.config_hash}"
        " --out {output} 2>&1 | tee {log}"

