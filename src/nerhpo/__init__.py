"""nerhpo: which HPO method and hyperparameters give the best, most casing-robust NER model."""

__version__ = "0.1.0"
