"""The hyperparameters HPO searches, in the order tables and trials.csv list them.

Kept in a module of its own (no torch import), so the report and findings stages share it
with the trainer without loading PyTorch.
"""

HPARAMS = (
    "learning_rate",
    "weight_decay",
    "warmup_ratio",
    "attention_dropout",
    "hidden_dropout",
    "batch_size",
)
