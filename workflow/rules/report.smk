# Rules by stage for every paper ({paper} wildcard): its tables, its figures, the copy of both into
# paper/<profile>/<paper>; then the cross-paper claims check, leaderboard and reproduction report.
# What a paper's tables and figures read comes from its grid (table_inputs, figure_inputs of
# nasrepro/papers/<paper>/grid.py, as TABLE_INPUTS/FIGURE_INPUTS: stages_dag.smk). Each paper's
# tables module (nasrepro/papers/<paper>/tables.py) names its own tables and figures.


include: "report_dag.smk"


rule tables:
    """A paper's tables (csv/md/tex) in results/<profile>/<paper>/tables, and its tidy
    measurements and leaderboard CSVs in results/<profile>/tables (the claims engine and the
    leaderboard read those)."""
    input:
        run=table_inputs,
    output:
        tables=report(directory(f"{P}/{output_path('{paper}', 'tables')}"),
                      patterns=["{name}.{ext}"], category=paper_title,
                      caption="../report/tables.rst"),
        measurements=f"{P}/{data_table_path('{paper}', 'measurements')}",
        leaderboard=f"{P}/{data_table_path('{paper}', 'leaderboard')}",
    wildcard_constraints:
        paper="|".join(PAPERS),
    params:
        config=JOB_CONFIG,
        config_hash=paper_config_hash,
        inputs=input_flags,
        data_dir=data_dir,
    log:
        f"{LOGS}/{{paper}}/tables.log",
    benchmark:
        f"{BENCH}/{{paper}}/tables.tsv"
    conda:
        "../../environment.yml"
    shell:
        "nasrepro table {params.config} --config-hash {params.config_hash} --paper {wildcards.paper}"
        " {params.inputs} --out-dir {output.tables} --data-dir {params.data_dir} 2>&1 | tee {log}"


rule figures:
    """A paper's figures (pdf/png) in results/<profile>/<paper>/figures."""
    input:
        run=figure_inputs,
    output:
        report(directory(f"{P}/{output_path('{paper}', 'figures')}"), patterns=["{name}.{ext}"],
               category=paper_title, caption="../report/figures.rst"),
    wildcard_constraints:
        paper="|".join(PAPERS),
    params:
        config=JOB_CONFIG,
        config_hash=paper_config_hash,
        inputs=input_flags,
    log:
        f"{LOGS}/{{paper}}/figures.log",
    benchmark:
        f"{BENCH}/{{paper}}/figures.tsv"
    conda:
        "../../environment.yml"
    shell:
        "nasrepro figure {params.config} --config-hash {params.config_hash}"
        " --paper {wildcards.paper} {params.inputs} --out-dir {output} 2>&1 | tee {log}"


rule collect:
    """Copy a paper's tables, figures and provenance into paper/<profile>/<paper> (committed for
    the default profile)."""
    input:
        collect_inputs,
    output:
        directory(f"{PAPER_DIR}/{{paper}}"),
    wildcard_constraints:
        paper="|".join(PAPERS),
    params:
        config=JOB_CONFIG,
        config_hash=paper_config_hash,
    log:
        f"{LOGS}/{{paper}}/paper.log",
    benchmark:
        f"{BENCH}/paper_{{paper}}.tsv"
    conda:
        "../../environment.yml"
    shell:
        "nasrepro collect {params.config} --config-hash {params.config_hash}"
        " --paper {wildcards.paper} --out-dir {output} 2>&1 | tee {log}"


# One target rule per paper (`snakemake spos`): its tables and figures.
for _paper in PAPERS:

    rule:
        name:
            _paper
        input:
            paper_outputs(_paper),

CLAIMS = expand(f"{P}/tables/claims.{{ext}}", ext=["csv", "md", "tex"])
LEADERBOARD = expand(f"{P}/tables/leaderboard.{{ext}}", ext=["csv", "md", "tex"])


rule claims:
    """Test every claim of paper/claims.yaml on the papers' measurements (verdicts follow the
    statistics: reproduced / not reproduced / inconclusive / underpowered / not testable /
    not run)."""
    input:
        [f"{P}/{data_table_path(p, 'measurements')}" for p in ENABLED_PAPERS],
        claims="paper/claims.yaml",
    output:
        report(CLAIMS, category="Claims", caption="../report/claims.rst"),
    params:
        config=JOB_CONFIG,
        config_hash=CFG_HASH["all"],
        out=lambda wc, output: Path(output[0]).parent,
    log:
        f"{LOGS}/claims.log",
    benchmark:
        f"{BENCH}/claims.tsv"
    conda:
        "../../environment.yml"
    shell:
        "nasrepro claims {params.config} --config-hash {params.config_hash} --claims {input.claims}"
        " --out-dir {params.out} 2>&1 | tee {log}"


rule leaderboard:
    """Every searched arch of every method, per space: MACs, params, top-1, search cost."""
    input:
        [f"{P}/{data_table_path(p, 'leaderboard')}" for p in ENABLED_PAPERS],
    output:
        report(LEADERBOARD, category="Leaderboard", caption="../report/leaderboard.rst"),
    params:
        config=JOB_CONFIG,
        config_hash=CFG_HASH["all"],
        out=lambda wc, output: Path(output[0]).parent,
    log:
        f"{LOGS}/leaderboard.log",
    benchmark:
        f"{BENCH}/leaderboard.tsv"
    conda:
        "../../environment.yml"
    shell:
        "nasrepro leaderboard {params.config} --config-hash {params.config_hash}"
        " --out-dir {params.out} 2>&1 | tee {log}"


rule report:
    """The reproduction report {PAPER_DIR}/REPORT.md (tables next to the published numbers,
    figures, claims, leaderboard, profile, hardware, compute) and the NAS best-practices
    checklist {PAPER_DIR}/checklist.md."""
    input:
        CLAIMS,
        LEADERBOARD,
        [f"{PAPER_DIR}/{p}" for p in ENABLED_PAPERS],
        template="paper/report_template.md",
        published="paper/published.yaml",
    output:
        f"{PAPER_DIR}/REPORT.md",
        f"{PAPER_DIR}/checklist.md",
        expand(f"{PAPER_DIR}/{{name}}.{{ext}}", name=["claims", "leaderboard"],
               ext=["csv", "md", "tex"]),
    params:
        config=JOB_CONFIG,
        config_hash=CFG_HASH["all"],
        out=lambda wc, output: Path(output[0]).parent,
        tables=lambda wc, input: Path(input[0]).parent,
    log:
        f"{LOGS}/report.log",
    benchmark:
        f"{BENCH}/report.tsv"
    conda:
        "../../environment.yml"
    shell:
        "nasrepro report {params.config} --config-hash {params.config_hash} --out-dir {params.out}"
        " --template {input.template} --published {input.published}"
        " --tables-dir {params.tables} 2>&1 | tee {log}"


rule paper:
    """Target: every enabled paper's reference results and the report under paper/<profile>/."""
    input:
        rules.report.output,
