"""SPOS (Guo et al. 2019): the paper's own steps, tables and manual (``README.md``)."""
