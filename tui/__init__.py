"""teamboard's terminal front ends: the command line (`tui.cli`) and the Textual app."""
