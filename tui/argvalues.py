"""What argparse (`tui.cli.base.Parser`) reads as a value although it starts with "-": a negative
number (`-3` days ago, `-1e3`, `-inf`). In a module of its own, which imports nothing: the lean
start (`tui.launch`) reads a record's arguments with it, and `tui.lean` and `tui.cli` share it."""

NEGATIVE_NUMBER = r"^-(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?%?|inf|infinity|nan)$"
