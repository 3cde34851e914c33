"""Measurements outside the pipeline: the training-speed benchmark, the cost of a whole study,
and the bundle that carries them to an offline GPU node."""
