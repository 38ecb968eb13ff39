"""AttentiveNAS (Wang et al. 2021): the paper's own steps, tables and manual (``README.md``)."""
