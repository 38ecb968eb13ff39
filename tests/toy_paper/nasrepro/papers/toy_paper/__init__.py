"""A toy fifth paper (tests/test_fifth_paper.py): its steps, grid and tables."""
