"""Run Kernel Studio with ``python -m kernelstudio``."""

import sys

from kernelstudio.cli import main

sys.exit(main())
