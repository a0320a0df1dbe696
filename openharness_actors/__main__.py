"""``python -m openharness_actors`` and the ``openharness-actors`` script: the command line.

Only dispatches; the commands live in :mod:`openharness_actors.cli`.
"""

from __future__ import annotations

import sys

from .cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
