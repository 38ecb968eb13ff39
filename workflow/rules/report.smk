# Cross-paper outputs. Each paper's rules file (workflow/rules/<paper>.smk) defines its target
# rule <paper> and a rule paper_<paper> that copies its tables/figures into paper/<profile>/<paper>,
# and registers that output in PAPER_OUTPUTS.


rule paper:
    """Target: every enabled paper's reference results under paper/<profile>/."""
    input:
        [PAPER_OUTPUTS[p] for p in ENABLED_PAPERS],
