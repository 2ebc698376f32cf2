#!/usr/bin/env python3
"""Community patrol simulator: see README.md, or run ``python run_sim.py --help``."""

import sys

from sim.cli import main

if __name__ == "__main__":
    sys.exit(main())
