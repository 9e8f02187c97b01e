#!/usr/bin/env python3
"""Checks an ONNX file written by `convrt export` with the ONNX tools themselves.

  1. onnx.checker.check_model(full_check=True): structure, opset schemas and ONNX shape inference;
  2. with input.npy and expected.npy: runs the model in ONNX Runtime (CPU, all graph optimisations off,
     so the operators run as written) and compares its first output with expected.npy under convrt's
     rule max|err| <= 1e-4 * max(1, max|expected|).

Usage: Tools/check_export.py MODEL.onnx [input.npy expected.npy]
Needs onnx, onnxruntime and numpy (e.g. /work/venv/bin/python). Exit status 1 on any failure.
"""

import sys

import numpy as np
import onnx
import onnxruntime as ort


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 4):
        print(__doc__.strip().splitlines()[-3], file=sys.stderr)
        return 2
    model = onnx.load(argv[1])
    onnx.checker.check_model(model, full_check=True)
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    print(f"{argv[1]}: checker OK (opset {opset}, {len(model.graph.node)} nodes, {len(model.graph.initializer)} initializers)")
    if len(argv) == 2:
        return 0
    x = np.load(argv[2]).astype(np.float32)
    expected = np.load(argv[3])
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(argv[1], options, providers=["CPUExecutionProvider"])
    (y,) = session.run([session.get_outputs()[0].name], {session.get_inputs()[0].name: x})[:1]
    if y.shape != expected.shape:
        print(f"shape {list(y.shape)} != expected {list(expected.shape)}")
        return 1
    error = float(np.max(np.abs(y - expected))) if y.size else 0.0
    scale = max(1.0, float(np.max(np.abs(expected))) if expected.size else 0.0)
    ok = error <= 1e-4 * scale
    print(f"onnxruntime {ort.__version__}: max abs error {error:.3g} (scale {scale:.3g}) {'OK' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
