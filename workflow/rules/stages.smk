# The computing stages of every paper: one definition per stage (train_supernet, search,
# retrain) makes the rule <paper>_<stage> of each paper whose grid has runs of it
# (nasrepro/papers/<paper>/grid.py: runs, run_inputs). A rule per paper rather than one
# {paper} wildcard keeps each paper's jobs sizeable on their own in the workflow profiles
# (set-resources: an ImageNet SPOS supernet takes 8 GPUs, a DARTS search one).
#
#   output  results/<profile>/<paper>/<stage>/<cell>/seed<s>/provenance.json  (written last)
#   job     nasrepro <stage> --paper P --cell C --seed S --out DIR --input NAME=DIR_OR_FILE ...
#
# A later step depends on a run through its provenance.json and gets the run directory on its
# command line. A paper's own steps (studies) are in workflow/rules/<paper>.smk.


include: "stages_dag.smk"


for _paper in PAPERS:
    for _stage in RUN_STAGES:
        if not stage_cells(_paper, _stage):
            continue

        rule:
            """One run of a paper's stage: nasrepro/papers/<paper>/experiment.py STAGES."""
            name:
                f"{_paper}_{_stage}"
            input:
                unpack(stage_inputs(_paper, _stage)),
            output:
                stage_output(_paper, _stage),
            wildcard_constraints:
                cell=cell_pattern(_paper, _stage),
                seed=r"\d+",
            params:  # (the shell command is evaluated when the job runs: no loop variables in it)
                command=_stage.replace("_", "-"),
                paper=_paper,
                config=JOB_CONFIG,
                config_hash=CFG_HASH[_paper],
                inputs=input_flags,
                out=lambda wc, output: Path(output[0]).parent,
            log:
                f"{LOGS}/{_paper}/{_stage}/{{cell}}/seed{{seed}}.log",
            benchmark:
                f"{BENCH}/{_paper}/{_stage}/{{cell}}/seed{{seed}}.tsv"
            threads: THREADS
            resources:
                gpu=GPU,
            conda:
                "../../environment.yml"
            shell:
                "nasrepro {params.command} {params.config} --config-hash {params.config_hash}"
                " --paper {params.paper} --cell {wildcards.cell} --seed {wildcards.seed}"
                " {params.inputs} --out {params.out} 2>&1 | tee {log}"
