"""THE training loop of nasrepro (one for all four papers), its config, schedules and checkpoints.

Paper-specific training (SPOS path sampling, DARTS/SNAS architecture steps, AttentiveNAS sandwich
with in-place distillation, FBNetV3 recipes) plugs into :func:`train` as a step strategy
(:class:`TrainStep`) and config values (:class:`TrainConfig`); see PAPERS.md sections 1-4.
"""

from nasrepro.training.checkpoint import (
    load_checkpoint,
    log_csv_text,
    save_checkpoint,
    save_state_dict,
    write_log_csv,
)
from nasrepro.training.config import TrainConfig
from nasrepro.training.loop import (
    StandardStep,
    StepContext,
    TrainStep,
    batch_accuracy,
    build_optimizer,
    draw_batch,
    split_logits,
    steps_per_epoch_of,
    train,
)
from nasrepro.training.schedules import drop_path_at, linear_anneal, lr_at

__all__ = [
    "StandardStep",
    "StepContext",
    "TrainConfig",
    "TrainStep",
    "batch_accuracy",
    "build_optimizer",
    "draw_batch",
    "drop_path_at",
    "linear_anneal",
    "load_checkpoint",
    "log_csv_text",
    "lr_at",
    "save_checkpoint",
    "save_state_dict",
    "split_logits",
    "steps_per_epoch_of",
    "train",
    "write_log_csv",
]
