"""HPO through Ray Tune: one study's space, algorithms, trainable, runner and identity, the
workarounds of library internals, the Ray head, GPU slots and the repeated studies."""
