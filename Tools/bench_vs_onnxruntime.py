#!/usr/bin/env python3
"""Benchmark single convolution layers: convrt vs ONNX Runtime, interleaved in one run.

For each case (the anchor table in docs/performance.md) this writes a `.convnet` and an `.onnx`
of the same layer (exported from torch), then for each thread count times ONNX Runtime in-process
and `convrt bench ... --format json` alternately, for R rounds, and reports the median over rounds.
Weights differ (convrt uses its seeded init) but only timings are compared, so that does not matter.

    /work/venv/bin/python Tools/bench_vs_onnxruntime.py [--threads 1,2] [--cases a,b] [--rounds 3]
        [--iterations 50] [--warmup 10] [--convrt .build/release/convrt] [--out DIR] [--json OUT]

Ratio = ORT ms / convrt ms: above 1 means convrt is faster. The default cases are the 12 anchor
layers; `--cases net_resnet18,net_mobilenet_v2` times whole torchvision networks at 1x3x224x224, with
convrt and ORT loading the same exported .onnx (the geomean line covers the layer cases only).
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

# name -> (op, input shape, kwargs); kwargs are both the torch module's and the DSL's arguments.
CASES = {
    "c2d_3x3_64_56": ("Conv2d", [1, 64, 56, 56], dict(in_channels=64, out_channels=64, kernel_size=3, padding=1)),
    "c2d_1x1_256to64": ("Conv2d", [1, 256, 56, 56], dict(in_channels=256, out_channels=64, kernel_size=1)),
    "c2d_7x7s2_stem": ("Conv2d", [1, 3, 224, 224],
                       dict(in_channels=3, out_channels=64, kernel_size=7, stride=2, padding=3, bias=False)),
    "c2d_3x3s2_128": ("Conv2d", [1, 128, 28, 28],
                      dict(in_channels=128, out_channels=256, kernel_size=3, stride=2, padding=1)),
    "c2d_dw3x3_144": ("Conv2d", [1, 144, 56, 56],
                      dict(in_channels=144, out_channels=144, kernel_size=3, padding=1, groups=144)),
    "c2d_grp32_128": ("Conv2d", [1, 128, 56, 56],
                      dict(in_channels=128, out_channels=128, kernel_size=3, padding=1, groups=32)),
    "c2d_3x3_b8": ("Conv2d", [8, 64, 56, 56], dict(in_channels=64, out_channels=64, kernel_size=3, padding=1)),
    "c1d_k3_256_4096": ("Conv1d", [1, 256, 4096], dict(in_channels=256, out_channels=256, kernel_size=3, padding=1)),
    "c1d_dil4_64": ("Conv1d", [1, 64, 16000],
                    dict(in_channels=64, out_channels=64, kernel_size=3, dilation=4, padding=4)),
    "c3d_3x3x3_32to64": ("Conv3d", [1, 32, 8, 28, 28], dict(in_channels=32, out_channels=64, kernel_size=3, padding=1)),
    "ct2d_4x4s2_128": ("ConvTranspose2d", [1, 128, 32, 32],
                       dict(in_channels=128, out_channels=64, kernel_size=4, stride=2, padding=1)),
    "ct3d_2s2_64": ("ConvTranspose3d", [1, 64, 8, 16, 16],
                    dict(in_channels=64, out_channels=32, kernel_size=2, stride=2)),
    # Pooling, padding and resizing (not in the anchor table; run them with --cases).
    "maxpool_3x3s2_64_112": ("MaxPool2d", [1, 64, 112, 112], dict(kernel_size=3, stride=2, padding=1)),
    "avgpool_2x2_256_28": ("AvgPool2d", [1, 256, 28, 28], dict(kernel_size=2, stride=2)),
    "gap_512_7": ("AdaptiveAvgPool2d", [1, 512, 7, 7], dict(output_size=1)),
    "gap_1280_7": ("AdaptiveAvgPool2d", [1, 1280, 7, 7], dict(output_size=1)),
    "up_bilinear_64_56": ("Upsample", [1, 64, 56, 56], dict(scale_factor=2, mode="bilinear", align_corners=True)),
    "up_nearest_64_56": ("Upsample", [1, 64, 56, 56], dict(scale_factor=2, mode="nearest")),
    "reflectpad_64_56": ("ReflectionPad2d", [1, 64, 56, 56], dict(padding=1)),
    # MobileNetV2's slowest layer kinds (not in the anchor table; run them with --cases).
    "mb_1x1_32to16_112": ("Conv2d", [1, 32, 112, 112], dict(in_channels=32, out_channels=16, kernel_size=1)),
    "mb_1x1_16to96_112": ("Conv2d", [1, 16, 112, 112], dict(in_channels=16, out_channels=96, kernel_size=1)),
    "mb_1x1_960to320_7": ("Conv2d", [1, 960, 7, 7], dict(in_channels=960, out_channels=320, kernel_size=1)),
    "mb_1x1_320to1280_7": ("Conv2d", [1, 320, 7, 7], dict(in_channels=320, out_channels=1280, kernel_size=1)),
    "mb_1x1_96to576_14": ("Conv2d", [1, 96, 14, 14], dict(in_channels=96, out_channels=576, kernel_size=1)),
    "mb_dw3x3s2_96_112": ("Conv2d", [1, 96, 112, 112],
                          dict(in_channels=96, out_channels=96, kernel_size=3, stride=2, padding=1, groups=96)),
    "mb_linear_1280to1000": ("Linear", [1, 1280], dict(in_features=1280, out_features=1000)),
    # Whole networks (torchvision definitions, seeded random weights): both runtimes load the same .onnx.
    "net_resnet18": ("torchvision", [1, 3, 224, 224], dict(model="resnet18")),
    "net_mobilenet_v2": ("torchvision", [1, 3, 224, 224], dict(model="mobilenet_v2")),
}
ANCHORS = list(CASES)[:12]
NETWORKS = [name for name, case in CASES.items() if case[0] == "torchvision"]


def dsl_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v + '"'
    return str(v)


def write_convnet(path, op, shape, kwargs):
    args = ", ".join(f"{k}={dsl_value(v)}" for k, v in kwargs.items())
    with open(path, "w") as f:
        f.write(f"input x: [{', '.join(map(str, shape))}]\n")
        f.write(f"conv = {op}(x, {args})\n")
        f.write("output conv\n")


def make_module(op, kwargs):
    import torch
    if op == "torchvision":
        import torchvision
        torch.manual_seed(0)
        return getattr(torchvision.models, kwargs["model"])(weights=None).eval()
    return getattr(torch.nn, op)(**kwargs).eval()


def write_onnx(path, op, shape, kwargs):
    import torch
    module = make_module(op, kwargs)
    x = torch.randn(*shape)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy (TorchScript) exporter's deprecation notice
        torch.onnx.export(module, (x,), path, input_names=["x"], output_names=["y"],
                          opset_version=17, dynamo=False)


def make_session(path, threads):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


# Longer than ORT's workers keep spinning after a run (see run_threads).
ORT_SPIN_PAUSE_S = 0.25


def time_ort(session, x, warmup, iterations):
    feed = {"x": x}
    for _ in range(warmup):
        session.run(None, feed)
    times = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        session.run(None, feed)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def time_convrt(convrt, model, threads, warmup, iterations):
    cmd = [convrt, "bench", model, "--threads", str(threads), "--warmup", str(warmup),
           "--iterations", str(iterations), "--format", "json"]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({res.returncode}): {res.stderr.strip()}")
    data = json.loads(res.stdout)
    return data["median_ms"], data.get("flops")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--convrt", default=".build/release/convrt")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--cases", default=",".join(ANCHORS))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--iterations", type=int, default=50)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--out", help="directory for the .convnet/.onnx files (default: a temp dir)")
    p.add_argument("--json", help="save the results here")
    return p.parse_args()


def prepare(cases, out_dir):
    files = {}
    for name in cases:
        op, shape, kwargs = CASES[name]
        convnet = os.path.join(out_dir, name + ".convnet")
        onnx_path = os.path.join(out_dir, name + ".onnx")
        write_onnx(onnx_path, op, shape, kwargs)
        if op == "torchvision":
            files[name] = (onnx_path, onnx_path)  # convrt imports the very file ORT runs
        else:
            write_convnet(convnet, op, shape, kwargs)
            files[name] = (convnet, onnx_path)
    return files


def run_threads(args, cases, files, threads):
    """One thread count: R rounds over all cases, ORT then convrt per case; median over rounds."""
    sessions = {n: make_session(files[n][1], threads) for n in cases}
    rng = np.random.default_rng(0)
    inputs = {n: rng.standard_normal(CASES[n][1], dtype=np.float32) for n in cases}
    ort_ms = {n: [] for n in cases}
    cr_ms = {n: [] for n in cases}
    flops = {}
    for r in range(args.rounds):
        for n in cases:
            ort_ms[n].append(time_ort(sessions[n], inputs[n], args.warmup, args.iterations))
            # ORT's idle intra-op workers spin for ~0.1 s after a run (measured: 0.08 s of CPU);
            # convrt started at once would share the cores with them (2x slower at 2 threads).
            time.sleep(ORT_SPIN_PAUSE_S)
            ms, fl = time_convrt(args.convrt, files[n][0], threads, args.warmup, args.iterations)
            cr_ms[n].append(ms)
            flops[n] = fl
        print(f"  [threads={threads}] round {r + 1}/{args.rounds} done", file=sys.stderr)
    rows = []
    for n in cases:
        o, c = statistics.median(ort_ms[n]), statistics.median(cr_ms[n])
        rows.append(dict(case=n, ort_ms=o, convrt_ms=c, ratio=o / c, flops=flops[n],
                         ort_rounds=ort_ms[n], convrt_rounds=cr_ms[n]))
    return rows


def gflops(flops, ms):
    return f"{flops / ms / 1e6:8.1f}" if flops else "     n/a"


def print_table(threads, rows):
    print(f"\nthreads={threads}")
    print(f"{'case':<18} {'ORT ms':>9} {'convrt ms':>10} {'ratio':>7} {'ORT GF/s':>9} {'cr GF/s':>8}")
    for r in rows:
        print(f"{r['case']:<18} {r['ort_ms']:9.3f} {r['convrt_ms']:10.3f} {r['ratio']:7.3f} "
              f"{gflops(r['flops'], r['ort_ms']):>9} {gflops(r['flops'], r['convrt_ms']):>8}")
    layers = [r for r in rows if r["case"] not in NETWORKS] or rows
    geo = math.exp(statistics.mean(math.log(r["ratio"]) for r in layers))
    label = "geomean ratio" if len(layers) == len(rows) else "geomean (layers)"
    print(f"{label:<18} {'':>9} {'':>10} {geo:7.3f}   (ORT ms / convrt ms; >1 = convrt faster)")
    return geo


def main():
    args = parse_args()
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        sys.exit(f"unknown case(s): {', '.join(unknown)}; known: {', '.join(CASES)}")
    if not os.access(args.convrt, os.X_OK):
        sys.exit(f"convrt binary not found: {args.convrt} (build: swift build -c release --product convrt)")
    thread_counts = [int(t) for t in args.threads.split(",")]
    out_dir = args.out or tempfile.mkdtemp(prefix="convrt-ortbench-")
    os.makedirs(out_dir, exist_ok=True)
    files = prepare(cases, out_dir)
    print(f"models in {out_dir}; rounds={args.rounds} warmup={args.warmup} iterations={args.iterations}",
          file=sys.stderr)
    results = {}
    for t in thread_counts:
        rows = run_threads(args, cases, files, t)
        results[str(t)] = dict(rows=rows, geomean_ratio=print_table(t, rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(rounds=args.rounds, warmup=args.warmup, iterations=args.iterations,
                           results=results), f, indent=2)


if __name__ == "__main__":
    main()
