"""Corpora: reading and writing them, the demo generator, tag families and casing variants."""
