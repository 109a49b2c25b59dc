"""Instructor tooling: build the student release, validate the course, grade submissions."""

import os
import sys
from pathlib import Path

# nbgrader starts helper programs (alembic, kernels) by name: find this environment's first.
_scripts = str(Path(sys.executable).parent)
if _scripts not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _scripts + os.pathsep + os.environ.get("PATH", "")
