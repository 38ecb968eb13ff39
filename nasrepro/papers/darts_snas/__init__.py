"""SNAS (Xie et al. 2019) vs DARTS (Liu et al. 2019): the papers' own steps, tables and
manual (``README.md``)."""
