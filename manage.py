#!/usr/bin/env python
"""Django's command-line utility for Sightline."""

import os
import sys
from pathlib import Path


def main() -> None:
    # platform/ is a plain folder (it must not shadow the standard-library module `platform`);
    # the project package inside it is importable as `sightline`.
    sys.path.insert(1, str(Path(__file__).resolve().parent / "platform"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sightline.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
