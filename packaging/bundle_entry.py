"""Entry point of the PyInstaller bundle: the same command as ``kernelstudio``."""

import sys

from kernelstudio.cli import main

sys.exit(main())
