"""Paper packages: what is each paper's own, on top of the shared library.

``nasrepro/papers/<paper>/`` holds ``grid.py`` (which runs of each stage exist and what each
reads: the grid interface of :mod:`nasrepro.stages`, from which the rules ``<paper>_<stage>``
are made), ``experiment.py`` (the paper's job steps and its studies, called by the
``nasrepro`` CLI from the paper's rules), ``tables.py`` (its tables, figures and
tidy measurements) and ``README.md`` (its manual). Everything else (spaces, supernets,
samplers, the training loop, evaluation, search, predictors, metrics, the run-directory
harness, the generic reporting) is shared in the other subpackages of :mod:`nasrepro`.
"""
