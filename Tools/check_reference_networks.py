#!/usr/bin/env python3
"""Runs every reference network in DIR (written by gen_reference_networks.py) through convrt's
`.convnet` and `.onnx` paths and compares each output with PyTorch's recorded one:
max abs error <= 1e-4 * max(1, max|expected|) (issue 5's criterion).

    /work/venv/bin/python Tools/check_reference_networks.py DIR [--convrt .build/release/convrt]
        [--threads N]

Exits non-zero when any network misses the tolerance or convrt fails.
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile
import time

import numpy as np


def run(convrt, model, inp, threads, out):
    cmd = [convrt, "infer", model, inp, "-o", out, "--threads", str(threads)]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {res.stderr.strip()}")
    return time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir")
    p.add_argument("--convrt", default=".build/release/convrt")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    names = sorted(os.path.basename(f)[:-len(".convnet")] for f in glob.glob(os.path.join(args.dir, "*.convnet")))
    if not names:
        sys.exit(f"no .convnet files in {args.dir}")
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            base = os.path.join(args.dir, name)
            expected = np.load(base + ".expected.npy")
            tol = 1e-4 * max(1.0, float(np.abs(expected).max()))
            for ext in ("convnet", "onnx"):
                out = os.path.join(tmp, f"{name}.{ext}.npy")
                try:
                    secs = run(args.convrt, f"{base}.{ext}", base + ".input.npy", args.threads, out)
                    got = np.load(out)
                    err = float(np.abs(got.astype(np.float64) - expected).max()) if got.shape == expected.shape else float("inf")
                    ok = err <= tol
                    print(f"{name:<16} {ext:<8} shape {list(got.shape)} max abs err {err:.3g} (tol {tol:.3g}) "
                          f"{'ok' if ok else 'FAIL'}  [{secs:.1f} s]")
                except RuntimeError as e:
                    ok = False
                    print(f"{name:<16} {ext:<8} FAIL: {e}")
                failed += not ok
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
