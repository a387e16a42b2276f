"""`python -m bot`: the same program as the `stagebot` command of an installed package (`bot.cli.main`)."""

import sys

from .cli import main

sys.exit(main())
