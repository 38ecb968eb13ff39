# Cross-paper outputs: the claims check, the leaderboard and the reproduction report.
# Each paper's rules file (workflow/rules/<paper>.smk) defines its target rule <paper>, writes
# {P}/tables/<paper>_measurements.csv and <paper>_leaderboard.csv in its table step, has a rule
# paper_<paper> that copies its tables/figures into {PAPER_DIR}/<paper>, and registers
# PAPER_TARGETS[<paper>] and PAPER_OUTPUTS[<paper>].
CLAIMS = expand(f"{P}/tables/claims.{{ext}}", ext=["csv", "md", "tex"])
LEADERBOARD = expand(f"{P}/tables/leaderboard.{{ext}}", ext=["csv", "md", "tex"])


rule claims:
    """Test every claim of paper/claims.yaml on the papers' measurements (verdicts follow the
    statistics: reproduced / not reproduced / inconclusive / underpowered / not testable /
    not run)."""
    input:
        [f"{P}/tables/{p}_measurements.csv" for p in ENABLED_PAPERS],
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
        [f"{P}/tables/{p}_leaderboard.csv" for p in ENABLED_PAPERS],
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
        [PAPER_OUTPUTS[p] for p in ENABLED_PAPERS],
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
