# Tables and figures: results/<profile>/tables and results/<profile>/figures.


rule spos_tables:
    """SPOS Table 3 (block search) and Table 4 (channel search): MACs, params, top-1 mean ± std."""
    input:
        SPOS_METRICS,
    output:
        report(SPOS_TABLES, category="SPOS", caption="../report/spos_tables.rst"),
    log:
        f"{LOGS}/spos/tables.log",
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "nasrepro table --config-file {CFG} --paper spos --out-dir {P}/tables 2>&1 | tee {log}"


rule spos_figures:
    """Search curves (evolution vs random) and supernet-inherited vs standalone accuracy."""
    input:
        SPOS_CURVES,
        f"{R_SPOS}/inherit.csv",
    output:
        report(SPOS_FIGURES, category="SPOS", caption="../report/spos_figures.rst"),
    log:
        f"{LOGS}/spos/figures.log",
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "nasrepro figure --config-file {CFG} --paper spos --out-dir {P}/figures 2>&1 | tee {log}"


rule spos:
    """Target: every SPOS table and figure of the profile."""
    input:
        SPOS_TABLES,
        SPOS_FIGURES,


rule paper_spos:
    """Copy the SPOS tables, figures and provenance into paper/<profile>/spos (committed for
    the default profile)."""
    input:
        SPOS_TABLES,
        SPOS_FIGURES,
    output:
        directory(f"paper/{config['profile']}/spos"),
    log:
        f"{LOGS}/spos/paper.log",
    shell:
        "nasrepro collect --config-file {CFG} --paper spos --out-dir {output} 2>&1 | tee {log}"


rule paper:
    """Target: every paper's reference results under paper/<profile>/."""
    input:
        rules.paper_spos.output,
