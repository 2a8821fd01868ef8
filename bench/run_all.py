"""Run every `bench/*_bench.py` in turn (`make bench`); each starts what it needs and exits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failed = 0
    for script in sorted(HERE.glob("*_bench.py")):
        print(f"== {script.stem}", flush=True)
        module = f"bench.{script.stem}"
        failed += subprocess.call([sys.executable, "-m", module], cwd=HERE.parent) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
