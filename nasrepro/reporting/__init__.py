"""Reporting: tidy results -> tables (CSV, Markdown, LaTeX) and figures (PDF, PNG).

Generic building blocks; the paper-specific tables and figures are assembled from these. Import
from the submodules (:mod:`nasrepro.reporting.tables`, :mod:`nasrepro.reporting.figures`); the
figures module selects matplotlib's Agg backend when imported.
"""
