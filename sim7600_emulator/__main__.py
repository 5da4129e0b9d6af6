"""Run the emulator's command line: `python -m sim7600_emulator serve|ctl ...`."""

import sys

from .cli import main

sys.exit(main())
