"""Per-paper experiment steps: what each Snakemake rule runs, built from library parts."""
