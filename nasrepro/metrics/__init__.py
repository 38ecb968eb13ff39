"""Metrics: the cost model (MACs/params); rank correlation and Pareto tools are added beside it."""

from nasrepro.metrics.cost import (
    Cost,
    bn_params,
    conv2d_macs,
    conv2d_out_size,
    conv2d_params,
    count_params,
    linear_macs,
    linear_params,
    measure,
)

__all__ = [
    "Cost",
    "bn_params",
    "conv2d_macs",
    "conv2d_out_size",
    "conv2d_params",
    "count_params",
    "linear_macs",
    "linear_params",
    "measure",
]
