"""``make bench`` / ``python -m bench [name ...]``: run every ``bench/bench_*.py`` module's ``main()``.

Each module prints its own figures (a table). A module that fails is reported and the others
still run; the exit status is 1 if any failed. Names on the command line select modules
(``python -m bench sandbox_throughput``).
"""

from __future__ import annotations

import importlib
import sys
import time
import traceback
from pathlib import Path
from typing import List, Optional


def discover() -> List[str]:
    here = Path(__file__).resolve().parent
    return sorted(p.stem for p in here.glob("bench_*.py"))


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)
    names = discover()
    if argv:
        wanted = {a if a.startswith("bench_") else f"bench_{a}" for a in argv}
        unknown = wanted - set(names)
        if unknown:
            print(f"unknown benchmark(s): {', '.join(sorted(unknown))}; have: {', '.join(names)}", file=sys.stderr)
            return 2
        names = [n for n in names if n in wanted]
    failed = []
    for name in names:
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{name}")
            result = module.main()
            if isinstance(result, int) and result != 0:
                failed.append(name)
        except Exception:  # noqa: BLE001 - report and run the next benchmark
            traceback.print_exc()
            failed.append(name)
        print(f"--- {name}: {time.perf_counter() - started:.1f} s{' (FAILED)' if name in failed else ''}", flush=True)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
