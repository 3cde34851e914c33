"""The pipeline's stages, defined once for Snakemake and DVC."""
