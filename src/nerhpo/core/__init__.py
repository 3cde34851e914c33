"""The base every layer stands on: params (config), paths (layout), atomic writes, the
command-line conventions and the one-line error, readers of result files."""
