"""Models: the encoder (scratch pretraining or a local one), encoding sentences, the trainer used
by every fine-tuning, evaluation with seqeval, and the baseline and re-training stages."""
