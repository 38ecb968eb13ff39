"""Evaluation shared by all papers: top-1 accuracy, BN recalibration, batched subnet evaluation."""

from nasrepro.evaluation.evaluate import (
    accuracy,
    draw_recalibration_batches,
    evaluate_loss_acc,
    evaluate_subnets,
    recalibrate_bn,
    recalibrate_bn_on,
)

__all__ = [
    "accuracy",
    "draw_recalibration_batches",
    "evaluate_loss_acc",
    "evaluate_subnets",
    "recalibrate_bn",
    "recalibrate_bn_on",
]
