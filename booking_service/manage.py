#!/usr/bin/env python
"""Django's command-line utility for the booking service."""

import os
import sys
from pathlib import Path


def main() -> None:
    # Python put this file's folder first on the path, where `celery.py` would shadow the
    # celery package; the repository root (holding `common` and this package) goes there instead.
    sys.path[0] = str(Path(__file__).resolve().parents[1])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "booking_service.settings.local")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
