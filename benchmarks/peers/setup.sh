#!/usr/bin/env bash
# Create benchmarks/peers/.venv (gitignored) and install the peer frameworks from PyPI into it.
# The peers are never a dependency of openharness_actors: they live only in this venv, and
# benchmarks/run.py --peers runs each peer script as a subprocess of this venv's python.
# Usage: bash benchmarks/peers/setup.sh [python]   (default: python3; needs network to PyPI)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${1:-python3}"
"$python" -m venv "$here/.venv"
"$here/.venv/bin/pip" install -q --upgrade pip
# trio for floor.py (it runs in this venv too, so every column uses the same interpreter).
"$here/.venv/bin/pip" install -q -r "$here/requirements.txt"
"$here/.venv/bin/python" - <<'PY'
from importlib.metadata import version
for name in ("trio", "pydantic-graph", "autogen-core", "langgraph", "llama-index-workflows"):
    print(f"{name} {version(name)}")
PY
