"""Exercise-notebook benchmark: how long each instructor notebook takes to run, on one core.

Run with ``.venv/bin/python benchmarks/notebooks.py [ex01_linear_regression ...]``.
Each ``solutions/<ex>/<ex>.ipynb`` (every exercise, or the ones named) is executed top to
bottom with its solutions filled in, its test cells included (public and hidden checks,
as a student's final run and the grader's are), by nbclient in the repository's kernel
(``python3`` of this venv), in its own folder, with BLAS and OpenMP held to one thread
(``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1``, inherited by the kernel).

Per notebook it prints the wall time from the first cell to the last (the kernel's start
and its first handshake excluded), the slowest cell (its index and first line), and the
ratio of the wall time to the peer measured in the same run: chapter 1 of the book
(``book/ch01_linear_regression.ipynb``), executed the same way first. The ratio, not the
seconds, is what to compare between machines (docs/grading.md: speed targets are
benchmarks that print ratios against a peer in the same run, not timed tests).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before NumPy is imported anywhere, inherited by each kernel

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import CellExecutionError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PEER = ROOT / "book" / "ch01_linear_regression.ipynb"
KERNEL = "python3"
CELL_TIMEOUT = 1800  # seconds; a cell stuck longer is a failure, not a figure


@dataclass(frozen=True)
class Timing:
    """One notebook's run: wall time from the first cell, and its slowest cell."""

    name: str
    seconds: float
    cells: int
    slowest_index: int
    slowest_seconds: float
    slowest_line: str


def run(path: Path) -> Timing:
    """Execute ``path`` top to bottom in a fresh kernel; time the cells, not the start."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name=KERNEL, timeout=CELL_TIMEOUT, allow_errors=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.reset_execution_trackers()
    per_cell: list[tuple[float, int]] = []
    with client.setup_kernel(cwd=str(path.parent)):
        client.wait_for_reply(client.kc.kernel_info())  # the kernel answers: it has started
        start = time.perf_counter()
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            began = time.perf_counter()
            client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
            per_cell.append((time.perf_counter() - began, index))
        seconds = time.perf_counter() - start
    slowest, index = max(per_cell)
    first_line = next((ln for ln in nb.cells[index].source.splitlines() if ln.strip()), "")
    return Timing(path.stem, seconds, len(per_cell), index, slowest, first_line[:48])


def exercise_notebooks(names: list[str]) -> list[Path]:
    found = sorted(p for p in (ROOT / "solutions").glob("*/*.ipynb") if p.stem == p.parent.name)
    return [p for p in found if not names or p.stem in names]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="exercise names (default: every exercise)")
    args = parser.parse_args(argv)

    peer = run(PEER)
    print(f"one core (OMP/OpenBLAS/MKL threads = 1), kernel {KERNEL}; times exclude the "
          f"kernel's start")
    print(f"peer: book/{PEER.name}: {peer.seconds:.2f} s over {peer.cells} code cells\n")
    header = f"{'notebook':<26} {'cells':>5} {'wall s':>8} {'/ peer':>7}  slowest cell"
    print(header)
    print("-" * len(header))
    failed = 0
    for path in exercise_notebooks(args.names):
        try:
            t = run(path)
        except CellExecutionError as error:
            failed += 1
            last = str(error).strip().splitlines()[-1][:80]
            print(f"{path.stem:<26} FAILED: {last}")
            continue
        print(f"{t.name:<26} {t.cells:>5} {t.seconds:>8.2f} {t.seconds / peer.seconds:>7.2f}  "
              f"#{t.slowest_index} {t.slowest_seconds:.2f} s ({t.slowest_line})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
