"""`python -m smsgate.cli` (what the tests and benchmarks start)."""

import sys

from smsgate.cli import main

sys.exit(main())
