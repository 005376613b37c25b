#!/usr/bin/env python3
"""One command line for the whole system. Run ``./manage_all.py --help``."""

import sys

from deploy.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
