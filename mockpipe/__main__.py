"""`python -m mockpipe` runs the command line."""

import sys

from mockpipe.cli import main

sys.exit(main())
