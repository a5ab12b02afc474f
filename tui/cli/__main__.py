"""`python -m tui.cli`: the same as the `teamboard` script (the tests and benchmarks use it)."""

import sys

from . import main

sys.exit(main())
