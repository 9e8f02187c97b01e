#!/usr/bin/env python3
"""Feeds hand-made hostile files to the convrt CLI, as a user downloading them would, and checks
that each ends in one `error:` line, a non-zero exit, within a few seconds and without a memory blowup.

    swift build -c release --product convrt
    Tools/hostile_files.py [--convrt .build/release/convrt] [--keep DIR]

Needs only the Python standard library (files are written byte by byte, zips with zipfile).
Prints one line per case: verdict, exit status, seconds, peak RSS, the error line.
"""
import argparse
import os
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def npy(descr, shape, payload=b"", fortran=False, version=1, header=None):
    """A .npy image with an arbitrary (possibly lying) header."""
    text = header or "{'descr': %r, 'fortran_order': %s, 'shape': %s, }" % (
        descr, fortran, "(%s)" % "".join("%d," % d for d in shape) if shape else "()")
    raw = text.encode("latin-1" if version < 3 else "utf-8")
    size = 10 if version == 1 else 12
    raw += b" " * ((64 - (size + len(raw) + 1) % 64) % 64) + b"\n"
    length = struct.pack("<H" if version == 1 else "<I", len(raw))
    return b"\x93NUMPY" + bytes([version, 0]) + length + raw + payload


def zip_bytes(entries, compress=zipfile.ZIP_STORED):
    path = tempfile.mktemp(suffix=".zip")
    with zipfile.ZipFile(path, "w", compression=compress) as z:
        for name, data in entries:
            z.writestr(name, data)
    with open(path, "rb") as f:
        data = f.read()
    os.remove(path)
    return data


def zip_bomb(gib):
    """An .npz whose one entry is `gib` GiB of zeros, deflated (a few MB), declared honestly."""
    header = npy("<f4", [gib << 28])
    path = tempfile.mktemp(suffix=".npz")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as z:
        with z.open("conv.weight.npy", "w", force_zip64=True) as f:
            f.write(header)
            chunk = bytes(1 << 24)
            for _ in range(gib << 6):
                f.write(chunk)
    with open(path, "rb") as f:
        data = f.read()
    os.remove(path)
    return data


def lying_zip(declared):
    """A deflated entry that declares `declared` bytes but inflates to 64 MiB."""
    body = npy("<f4", [16 << 20]) + bytes(64 << 20)
    data = bytearray(zip_bytes([("conv.weight.npy", body)], zipfile.ZIP_DEFLATED))
    # Patch the uncompressed size in the local header (offset 22) and the central directory (+24).
    struct.pack_into("<I", data, 22, declared)
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, declared)
    return bytes(data)


def pb_field(number, wire, payload):
    def varint(v):
        out = bytearray()
        while True:
            b = v & 0x7F
            v >>= 7
            out.append(b | (0x80 if v else 0))
            if not v:
                return bytes(out)
    key = varint(number << 3 | wire)
    if wire == 2:
        return key + varint(len(payload)) + payload
    return key + varint(payload)


def chain(n, layer="r{i} = ReLU({prev})"):
    lines = ["input x: [1, 2, 8]"]
    prev = "x"
    for i in range(n):
        lines.append(layer.format(i=i, prev=prev))
        prev = layer.split(" =")[0].format(i=i)
    return "\n".join(lines + ["output " + prev, ""])


CONV = "input x: [1, 2, 8]\nc = Conv1d(x, in_channels=2, out_channels=2, kernel_size=3)\noutput c\n"


def cases(d):
    """(name, command arguments, files to write {name: bytes})."""
    lazy_pb = open(os.path.join(ROOT, "Models/lazy2d.pb"), "rb").read()
    model = os.path.join(ROOT, "Models/lazy2d.pb")
    good_in = os.path.join(ROOT, "Models/lazy2d.input.npy")
    weights_model = 'input x: [1, 2, 8]\nweights "w.npz"\nconv = Conv1d(x, in_channels=2, out_channels=2, kernel_size=3)\noutput conv\n'
    c = []
    add = lambda name, args, files=None: c.append((name, args, files or {}))
    # Model files
    add("empty .pb", ["infer", "m.pb", good_in], {"m.pb": b""})
    add("truncated .pb", ["infer", "m.pb", good_in], {"m.pb": lazy_pb[: len(lazy_pb) // 2]})
    add(".pb + trailing garbage", ["inspect", "m.pb"], {"m.pb": lazy_pb + b"\xff" * 7})
    add("random bytes .pb", ["inspect", "m.pb"], {"m.pb": os.urandom(4096)})
    add(".pb: a length of 2^62", ["inspect", "m.pb"], {"m.pb": b"\x08\x01\x2a\x80\x80\x80\x80\x80\x80\x80\x80\x40"})
    add(".pb: groups nested 200k deep", ["inspect", "m.pb"], {"m.pb": b"\x08\x01" + b"\x1b" * 200000})
    weight = pb_field(1, 2, b"w") + pb_field(2, 0, 1 << 40) + pb_field(2, 0, 1 << 40) + pb_field(3, 2, b"\0" * 16)
    add(".pb: weight dims 2^80 elements", ["inspect", "m.pb"], {"m.pb": b"\x08\x01" + pb_field(5, 2, weight)})
    add(".convnet is a .pb", ["inspect", "m.convnet"], {"m.convnet": lazy_pb})
    add("empty .convnet", ["compile", "m.convnet"], {"m.convnet": b""})
    add(".convnet Latin-1", ["compile", "m.convnet"], {"m.convnet": "input caf\xe9: [1]\n".encode("latin-1")})
    add(".convnet UTF-16", ["compile", "m.convnet"], {"m.convnet": CONV.encode("utf-16")})
    add(".convnet NUL bytes", ["compile", "m.convnet"], {"m.convnet": CONV.replace("\n", "\0\n").encode()})
    add(".convnet 100k nested parens", ["compile", "m.convnet"],
        {"m.convnet": ("input x: [1, 2, 8]\nc = Conv1d(x, in_channels=2, out_channels=2, kernel_size="
                       + "(" * 100000 + "3" + ")" * 100000 + ")\noutput c\n").encode()})
    add(".convnet 100k nested brackets", ["compile", "m.convnet"], {"m.convnet": b"input x: " + b"[" * 100000 + b"\n"})
    add(".convnet 8 MB unterminated string", ["compile", "m.convnet"],
        {"m.convnet": b'input x: [1]\nweights "' + b"a" * (8 << 20) + b"\n"})
    add(".convnet huge integer", ["compile", "m.convnet"], {"m.convnet": b"input x: [" + b"9" * 5000 + b"]\noutput x\n"})
    add(".convnet negative dim", ["compile", "m.convnet"], {"m.convnet": b"input x: [1, -2, 8]\nr = ReLU(x)\noutput r\n"})
    add(".convnet dims 2^40 x 2^40", ["inspect", "m.convnet"],
        {"m.convnet": b"input x: [1099511627776, 1099511627776]\nr = ReLU(x)\noutput r\n"})
    add(".convnet 15 GiB input", ["inspect", "m.convnet"],
        {"m.convnet": b"input x: [1, 1024, 1024, 1024, 4]\nr = ReLU(x)\noutput r\n"})
    add(".convnet 12 GiB of seeded weights", ["compile", "m.convnet"],
        {"m.convnet": b"input x: [1, 32768, 4]\nc = Conv1d(x, in_channels=32768, out_channels=32768, kernel_size=3)\noutput c\n"})
    add(".convnet kernel 2^63-1", ["compile", "m.convnet"],
        {"m.convnet": CONV.replace("kernel_size=3", "kernel_size=9223372036854775807").encode()})
    add(".convnet weights /dev/zero", ["compile", "m.convnet"], {"m.convnet": weights_model.replace("w.npz", "/dev/zero").encode()})
    add(".convnet weights is itself", ["compile", "m.convnet"], {"m.convnet": weights_model.replace("w.npz", "m.convnet").encode()})
    add(".convnet weights is a directory", ["compile", "m.convnet"], {"m.convnet": weights_model.replace("w.npz", ".").encode()})
    add(".convnet 20k-layer chain (works)", ["inspect", "m.convnet"], {"m.convnet": chain(20000).encode()})
    add(".convnet 10k conv+ReLU pairs (works)", ["inspect", "m.convnet"], {"m.convnet": chain(
        10000, "c{i} = Conv1d({prev}, in_channels=2, out_channels=2, kernel_size=1)\nr{i} = ReLU(c{i})").replace(
        "output c9999", "output r9999").encode()})
    add(".convnet 20k strided convs on a symbol (works)", ["inspect", "m.convnet"], {"m.convnet": chain(
        20000, "c{i} = Conv1d({prev}, in_channels=2, out_channels=2, kernel_size=1, stride=2)").replace(
        "[1, 2, 8]", "[N, 2, L]").encode()})
    add(".convnet 20k outputs (works)", ["inspect", "m.convnet"], {"m.convnet": (
        "input x: [1, 2, 8]\n" + "".join("r%d = ReLU(x)\n" % i for i in range(20000))
        + "output " + ", ".join("r%d" % i for i in range(20000)) + "\n").encode()})
    # Weights
    add("weights: zip bomb (1 GiB of zeros)", ["compile", "m.convnet", "--max-memory", "256M"],
        {"m.convnet": weights_model.encode(), "w.npz": zip_bomb(1)})
    add("weights: entry lies about its size", ["compile", "m.convnet"],
        {"m.convnet": weights_model.encode(), "w.npz": lying_zip(4096)})
    add("weights: 20k entries", ["compile", "m.convnet"],
        {"m.convnet": weights_model.encode(),
         "w.npz": zip_bytes([("k%d.npy" % i, npy("<f4", [1], b"\0" * 4)) for i in range(20000)])})
    add("weights: entry name ../../x.npy", ["compile", "m.convnet"],
        {"m.convnet": weights_model.encode(), "w.npz": zip_bytes([("../../conv.weight.npy", npy("<f4", [1], b"\0" * 4))])})
    add("weights: complex dtype", ["compile", "m.convnet"],
        {"m.convnet": weights_model.encode(), "w.npz": zip_bytes([("conv.weight.npy", npy("<c8", [2, 2, 3], b"\0" * 96))])})
    add("weights: not a zip", ["compile", "m.convnet"], {"m.convnet": weights_model.encode(), "w.npz": b"PK" + os.urandom(300)})
    # Inputs
    add("input: empty", ["infer", model, "x.npy"], {"x.npy": b""})
    add("input: truncated", ["infer", model, "x.npy"], {"x.npy": open(good_in, "rb").read()[:1000]})
    add("input: shape 10^5 x 10^5 x 10^5", ["infer", model, "x.npy"], {"x.npy": npy("<f4", [100000] * 3, b"\0" * 64)})
    add("input: 1 GiB of uint8 as float32 > limit", ["infer", model, "x.npy", "--max-memory", "2G"],
        {"x.npy": npy("|u1", [1 << 30], bytes(1 << 30))})
    for descr in ["<c16", "|O", "<U10", "|S5", "<M8[ns]", "<f16", "<V8"]:
        add("input: dtype " + descr, ["infer", model, "x.npy"], {"x.npy": npy(descr, [1, 3, 32, 32], b"\0" * 64)})
    add("input: header nested 10k deep", ["infer", model, "x.npy"],
        {"x.npy": npy(None, [], header="{'descr': '<f4', 'fortran_order': False, 'shape': " + "(" * 10000 + ")" * 10000 + "}")})
    add("input: v3 header not UTF-8", ["infer", model, "x.npy"],
        {"x.npy": npy(None, [], header="{'descr': '<f4', 'fortran_order': False, 'shape': (), 'caf\udce9': 1}".encode(
            "utf-8", "surrogateescape").decode("latin-1"), version=3)})
    add("input: 64k-digit dim", ["infer", model, "x.npy"],
        {"x.npy": npy(None, [], header="{'descr': '<f4', 'fortran_order': False, 'shape': (" + "9" * 60000 + ",), }", version=2)})
    add("input: a directory", ["infer", model, "."], {})
    add("input: /dev/zero", ["infer", model, "/dev/zero"], {})
    add("input: wrong shape in a batch of 3", ["infer", model, good_in, "bad.npy", good_in, "-o", "out/"],
        {"bad.npy": npy("<f4", [2, 2], b"\0" * 16)})
    add("model: a directory", ["infer", "dir.pb", good_in], {"dir.pb/x": b""})
    return c


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--convrt", default=os.path.join(ROOT, ".build/release/convrt"))
    parser.add_argument("--keep", help="write the files here and keep them")
    parser.add_argument("--timeout", type=float, default=20)
    args = parser.parse_args()
    work = args.keep or tempfile.mkdtemp(prefix="convrt-hostile-")
    failures = 0
    all_cases = cases(work)
    for name, argv, files in all_cases:
        for sub in {os.path.dirname(p) for p in files if os.path.dirname(p)}:
            os.makedirs(os.path.join(work, sub), exist_ok=True)
        for path, data in files.items():
            with open(os.path.join(work, path), "wb") as f:
                f.write(data)
        start = time.time()
        rss = 0
        try:
            # /usr/bin/time appends the peak RSS in KB as the last stderr line.
            run = subprocess.run(["/usr/bin/time", "-f", "%M", args.convrt] + argv, cwd=work,
                                 capture_output=True, timeout=args.timeout)
            status, err = run.returncode, run.stderr.decode("utf-8", "replace")
            lines = [l for l in err.splitlines() if l]
            if lines and lines[-1].isdigit():
                rss = int(lines.pop()) // 1024
            lines = [l for l in lines if not l.startswith("Command exited with non-zero status")]
        except subprocess.TimeoutExpired:
            status, lines = None, ["TIMEOUT"]
        seconds = time.time() - start
        works = name.endswith("(works)")
        ok = (status == 0 and not lines) if works else (
            status not in (None, 0) and status > 0 and lines and all(l.startswith("error: ") for l in lines)
            and (len(lines) == 1 or "batch" in name))
        failures += not ok
        shown = lines[-1] if lines else ""
        print("%-4s %-42s exit %-4s %5.2fs %6d MB  %s" % ("ok" if ok else "FAIL", name, status, seconds, rss,
                                                          shown[:150] + ("..." if len(shown) > 150 else "")))
        for path in files:
            if not args.keep:
                full = os.path.join(work, path)
                os.remove(full)
    print("%d of %d cases failed" % (failures, len(all_cases)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
