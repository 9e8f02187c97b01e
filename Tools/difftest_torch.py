#!/usr/bin/env python3
"""Differential test: random layer configurations run through PyTorch and through the convrt CLI.

For each seeded random configuration (one layer or a short chain; Conv/ConvTranspose 1-3d, their Lazy
variants, MegEngine-layout weights, Unfold, Fold, ReLU, Add with broadcasting) this script:

  1. builds the PyTorch modules and runs them (float32 to decide success, then float64 on the float32
     weights as the oracle);
  2. writes MODEL.convnet, the state_dict as w.npz and the inputs as .npy into a temp dir;
  3. runs `convrt infer MODEL.convnet`, `convrt compile` + `convrt infer MODEL.pb`, `convrt inspect`.

Checks: torch succeeds -> every convrt command succeeds, outputs have torch's shape and
max|err| <= 1e-4 * max(1, max|expected|), inspect's output shapes equal torch's per node.
torch raises -> compile (concrete dims) and infer exit non-zero with exactly one `error: ` line on stderr;
the message is compared with torch's (a wording difference is reported separately, low priority).
Never: a signal / exit status >= 128, or "Fatal error" on stderr.

Usage: Tools/difftest_torch.py [--seed S] [--count N] [--convrt PATH] [--keep-failures DIR] [--jobs J]
Needs torch and numpy (e.g. /work/venv/bin/python).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn

warnings.simplefilter("ignore")
torch.set_num_threads(1)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ----------------------------------------------------------------------------- model description
@dataclass
class Layer:
    name: str
    op: str
    args: list[str]
    kwargs: dict = field(default_factory=dict)
    megengine: bool = False
    style: int = 0  # picks the DSL spelling of strings/bools (exercises both forms)

    def ctor_kwargs(self) -> dict:
        kw = dict(self.kwargs)
        if "ConvTranspose" in self.op:
            kw.pop("output_size", None)
        kw.pop("conv_mode", None)
        return kw

    def line(self) -> str:
        parts = list(self.args) + [f"{k}={fmt_value(v, self.style)}" for k, v in self.kwargs.items()]
        return f"{self.name} = {self.op}({', '.join(parts)})"


@dataclass
class Config:
    inputs: list  # (name, declared dims (ints or symbols), concrete shape)
    layers: list[Layer]
    outputs: list[str]
    tag: str = ""

    def text(self, weights: bool) -> str:
        lines = [f"# {self.tag}"]
        lines += [f"input {n}: [{', '.join(str(d) for d in dims)}]" for n, dims, _ in self.inputs]
        if weights:
            lines.append('weights "w.npz"')
        lines += [layer.line() for layer in self.layers]
        lines.append("output " + ", ".join(self.outputs))
        return "\n".join(lines) + "\n"


def fmt_value(v, style: int = 0) -> str:
    if isinstance(v, bool):
        return ("True" if v else "False") if style % 2 else ("true" if v else "false")
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        q = "'" if style % 3 == 1 else '"'
        return q + v + q
    if isinstance(v, (tuple, list)):
        items = [fmt_value(x, style) for x in v]
        return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    if v is None:
        return "None"
    raise TypeError(v)


# ----------------------------------------------------------------------------- random generation
def spell(rng, vals):
    """A per-dim value list spelled as an int (when uniform, usually) or as a tuple."""
    vals = list(vals)
    if len(set(vals)) == 1 and rng.random() < 0.6:
        return vals[0]
    return tuple(vals)


def per_dim(v, nd):
    return list(v) if isinstance(v, (tuple, list)) else [v] * nd


def pick(rng, weighted):
    r, acc = rng.random() * sum(w for _, w in weighted), 0.0
    for v, w in weighted:
        acc += w
        if r < acc:
            return v
    return weighted[-1][0]


def gen_conv(rng, name, src, shape, nd=None, transposed=None, lazy=None):
    """A (Lazy)Conv/ConvTranspose layer. `shape` is the input's shape, or None to invent one."""
    bad = rng.random() < 0.12  # this layer deliberately tries an invalid parameter
    if shape is not None:
        cands = [r for r in (len(shape) - 2, len(shape) - 1) if 1 <= r <= 3]
        if not cands:
            cands = [1]
        nd = nd or rng.choice(cands)
    nd = nd or rng.choice([1, 2, 3])
    transposed = rng.random() < 0.4 if transposed is None else transposed
    lazy = rng.random() < 0.25 if lazy is None else lazy
    kind = ("Lazy" if lazy else "") + ("ConvTranspose" if transposed else "Conv") + f"{nd}d"
    small = 4 if nd == 3 else 6

    groups = pick(rng, [(1, 5), (2, 2), (3, 1), (4, 1)])
    depthwise = rng.random() < 0.2
    cin_g = 1 if depthwise else rng.choice([1, 2, 3])
    cin = groups * cin_g
    if shape is not None:  # the channel count comes from the input
        batched = len(shape) == nd + 2
        c = shape[1] if batched else shape[0]
        if c % groups and not bad:
            groups = 1
        cin = c
    cout = groups * rng.choice([1, 1, 2, 3])
    if rng.random() < 0.03:
        cin, cout = (0, 0) if rng.random() < 0.5 else (0, cout)
        if shape is not None:
            cin = shape[1] if len(shape) == nd + 2 else shape[0]

    k = [pick(rng, [(1, 2), (2, 3), (3, 4), (4, 2), (5, 1)]) for _ in range(nd)]
    s = [pick(rng, [(1, 6), (2, 3), (3, 2), (5, 1)]) for _ in range(nd)]
    d = [pick(rng, [(1, 6), (2, 2), (3, 1)]) for _ in range(nd)]
    if nd == 3:
        k = [min(x, 3) for x in k]
        d = [min(x, 2) for x in d]
    kw: dict = {}
    if not lazy:
        kw["in_channels"] = cin
    kw["out_channels"] = cout
    kw["kernel_size"] = spell(rng, k)
    if any(x != 1 for x in s) or rng.random() < 0.1:
        kw["stride"] = spell(rng, s)
    pad_kind = rng.random()
    pads = [rng.choice([0, 0, 1, 1, 2, 3]) for _ in range(nd)]
    if not transposed and pad_kind < 0.2:
        kw["padding"] = "same"
        if not bad:
            kw.pop("stride", None)
            s = [1] * nd
    elif not transposed and pad_kind < 0.27:
        kw["padding"] = "valid"
        pads = [0] * nd
    elif pad_kind < 0.85 and any(pads):
        kw["padding"] = spell(rng, pads)
    else:
        pads = [0] * nd
    if any(x != 1 for x in d) or rng.random() < 0.1:
        kw["dilation"] = spell(rng, d)
    if groups != 1 or rng.random() < 0.1:
        kw["groups"] = groups
    if rng.random() < 0.3:
        kw["bias"] = rng.random() < 0.3
    if not transposed and rng.random() < 0.5:
        kw["padding_mode"] = rng.choice(["zeros", "reflect", "replicate", "circular", "reflect", "circular"])
        if rng.random() < 0.2 and kw["padding_mode"] != "zeros" and not isinstance(kw.get("padding"), str):
            # negative padding: PyTorch crops with F.pad for non-zero modes (conv padding stays 0)
            neg = [-rng.choice([1, 2]) if rng.random() < 0.6 else p for p in pads]
            kw["padding"] = spell(rng, neg)
            pads = neg
    if transposed and rng.random() < 0.25:
        op = [rng.randrange(0, max(a, b)) for a, b in zip(s, d)]
        if bad and rng.random() < 0.5:
            op = [max(a, b) if rng.random() < 0.5 else 0 for a, b in zip(s, d)]
        if any(op):
            kw["output_padding"] = spell(rng, op)
    if bad:
        inject_bad_conv(rng, kw, nd, transposed)
    megengine = (not lazy and not transposed and kw.get("padding_mode", "zeros") == "zeros"
                 and rng.random() < 0.15)
    if megengine:
        kw["conv_mode"] = "cross_correlation"

    if shape is None:
        shape = invent_input(rng, nd, cin, k, s, d, pads, kw, transposed, small)
    if transposed and rng.random() < 0.25:
        kw["output_size"] = gen_output_size(rng, nd, shape, cout, k, s, d, pads, kw)
    return Layer(name, kind, [src], kw, megengine, rng.randrange(6)), shape


def inject_bad_conv(rng, kw, nd, transposed):
    what = rng.choice(["stride0", "dil0", "k0", "groups", "padmode", "padlen", "negpad", "samestr", "negop",
                       "outdiv", "none", "len1", "len1"])
    if what == "len1":  # 1-tuples: ATen expands them for stride/padding/dilation, not for the kernel or F.pad
        key = rng.choice(["kernel_size", "stride", "dilation", "padding", "output_padding"])
        v = per_dim(kw.get(key, 1 if key != "padding" else 0), nd)[0]
        kw[key] = (v if isinstance(v, int) else 1,)
        if key == "padding" and not transposed:
            kw["padding_mode"] = rng.choice(["zeros", "reflect", "replicate", "circular"])
        return
    if what == "stride0":
        kw["stride"] = 0 if rng.random() < 0.5 else tuple([1] * (nd - 1) + [rng.choice([0, -1])])
    elif what == "dil0":
        kw["dilation"] = 0
    elif what == "k0":
        kw["kernel_size"] = tuple([rng.choice([0, 2])] + [2] * (nd - 1))
    elif what == "groups":
        kw["groups"] = rng.choice([0, -1, 5])
    elif what == "padmode":
        kw["padding_mode"] = rng.choice(["constant", "reflect", "zeros"] if not transposed else
                                        ["reflect", "circular", "replicate", "constant"])
    elif what == "padlen":
        kw["padding"] = tuple([1] * (nd + 1))
    elif what == "negpad":
        kw["padding"] = -1
    elif what == "samestr":
        kw["padding"] = "same"
        kw["stride"] = 2
    elif what == "negop" and transposed:
        kw["output_padding"] = -1
    elif what == "outdiv":
        kw["out_channels"] = kw["out_channels"] + 1 if kw.get("groups", 1) > 1 else kw["out_channels"]


def invent_input(rng, nd, cin, k, s, d, pads, kw, transposed, small):
    batch = pick(rng, [(1, 4), (2, 3), (0, 1), (None, 2)])
    if rng.random() < 0.05:
        cin = max(0, cin + rng.choice([-1, 1]))
    dims = []
    for i in range(nd):
        ext = d[i] * (k[i] - 1) + 1
        if transposed:
            lo = 1
        elif kw.get("padding") == "same":
            lo = 1
        else:
            lo = max(1, ext - 2 * pads[i] - (1 if rng.random() < 0.1 else 0))
        dims.append(rng.randint(lo, max(lo, min(lo + small, 12 if nd < 3 else 7))))
        if rng.random() < 0.02:
            dims[-1] = 0
    shape = ([batch] if batch is not None else []) + [cin] + dims
    if rng.random() < 0.03:  # wrong rank
        shape = shape[1:] if len(shape) > 2 else [1] + shape
        if rng.random() < 0.5:
            shape = [1, 1] + shape
    return tuple(shape)


def gen_output_size(rng, nd, shape, cout, k, s, d, pads, kw):
    op_pads = pads if not isinstance(kw.get("padding"), str) else [0] * nd
    sizes = []
    for i in range(nd):
        L = shape[-nd + i] if len(shape) >= nd else 1
        mn = (L - 1) * s[i] - 2 * op_pads[i] + d[i] * (k[i] - 1) + 1
        v = mn + rng.randrange(0, max(1, s[i]))
        if rng.random() < 0.1:
            v = rng.choice([mn - 1, mn + s[i]])
        sizes.append(v)
    r = rng.random()
    if r < 0.45:
        return tuple(sizes)
    # full form: PyTorch ignores the leading (non-spatial) values
    lead = list(shape[: len(shape) - nd])
    if rng.random() < 0.3:
        lead = [x + rng.choice([1, 2, 5]) for x in lead]
    else:
        lead = lead[:-1] + [cout] if lead else lead
    if r > 0.95:
        lead = lead + [1]  # wrong element count
    return tuple(lead + sizes)


def gen_unfold(rng, name, src, shape):
    k = [pick(rng, [(1, 1), (2, 3), (3, 2), (4, 1)]) for _ in range(2)]
    d = [pick(rng, [(1, 4), (2, 1), (3, 1)]) for _ in range(2)]
    p = [rng.choice([0, 0, 1, 2]) for _ in range(2)]
    s = [pick(rng, [(1, 3), (2, 2), (3, 1), (5, 1)]) for _ in range(2)]
    kw = {"kernel_size": spell(rng, k)}
    if any(x != 1 for x in d):
        kw["dilation"] = spell(rng, d)
    if any(p):
        kw["padding"] = spell(rng, p)
    if any(x != 1 for x in s):
        kw["stride"] = spell(rng, s)
    if rng.random() < 0.06:
        kw[rng.choice(["kernel_size", "dilation", "padding", "stride"])] = rng.choice([0, -1, (1, 1, 1)])
    if shape is None:
        batch = pick(rng, [(1, 4), (2, 2), (0, 1), (None, 2)])
        hw = [rng.randint(max(1, d[i] * (k[i] - 1) + 1 - 2 * p[i]), d[i] * (k[i] - 1) + 6) for i in range(2)]
        c = rng.choice([1, 2, 3]) if rng.random() > 0.03 else 0
        shape = tuple(([batch] if batch is not None else []) + [c] + hw)
        if rng.random() < 0.04:
            shape = shape + (2,) if rng.random() < 0.5 else shape[-2:]
    return Layer(name, "Unfold", [src], kw, style=rng.randrange(6)), shape


def gen_fold(rng, name, src, shape):
    k = [pick(rng, [(1, 1), (2, 3), (3, 2)]) for _ in range(2)]
    d = [pick(rng, [(1, 4), (2, 1)]) for _ in range(2)]
    p = [rng.choice([0, 0, 1, 2]) for _ in range(2)]
    s = [pick(rng, [(1, 3), (2, 2), (3, 1)]) for _ in range(2)]
    out = [rng.randint(max(1, d[i] * (k[i] - 1) + 1 - 2 * p[i]), d[i] * (k[i] - 1) + 6) for i in range(2)]
    if rng.random() < 0.03:
        out[0] = max(0, out[0] - 3)
    kw = {"output_size": spell(rng, out), "kernel_size": spell(rng, k)}
    if any(x != 1 for x in d):
        kw["dilation"] = spell(rng, d)
    if any(p):
        kw["padding"] = spell(rng, p)
    if any(x != 1 for x in s):
        kw["stride"] = spell(rng, s)
    if rng.random() < 0.06:
        kw[rng.choice(["kernel_size", "dilation", "padding", "stride", "output_size"])] = \
            rng.choice([0, -1, (2, 2, 2)])
    if shape is None:
        blocks = 1
        for i in range(2):
            blocks *= max(0, (out[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1)
        c = rng.choice([1, 2, 3])
        if rng.random() < 0.05:
            blocks += rng.choice([-1, 1])
        ck = c * k[0] * k[1] + (1 if rng.random() < 0.04 else 0)
        batch = pick(rng, [(1, 4), (2, 2), (0, 1), (None, 2)])
        shape = tuple(([batch] if batch is not None else []) + [ck, max(0, blocks)])
        if rng.random() < 0.03:
            shape = (1,) + shape if len(shape) == 3 else shape[1:]
    return Layer(name, "Fold", [src], kw, style=rng.randrange(6)), shape


def broadcast_partner(rng, shape):
    """A shape that broadcasts against `shape` (sometimes one that does not)."""
    r = rng.random()
    if r < 0.25:
        return tuple(shape)
    out = [1 if rng.random() < 0.4 else x for x in shape]
    if rng.random() < 0.4 and out:
        out = out[rng.randint(1, len(out)):] if len(out) > 1 else out
    if rng.random() < 0.1 and out:
        j = rng.randrange(len(out))
        out[j] = out[j] + 1 if out[j] != 1 else 3
    return tuple(out)


# ----------------------------------------------------------------------------- configurations
def torch_layer_out(layer: Layer, env_shapes: dict, modules: dict, env: dict):
    """Runs one layer in float32 on random data; stores its module and output (raises like torch)."""
    xs = [env[a] for a in layer.args]
    if layer.op == "Add":
        y = torch.add(*xs)
    elif layer.op == "ReLU":
        y = torch.relu(xs[0])
    else:
        if layer.name not in modules:
            modules[layer.name] = getattr(nn, layer.op)(**layer.ctor_kwargs()).double()
        m = modules[layer.name]
        fwd = {"output_size": list(layer.kwargs["output_size"])} if "ConvTranspose" in layer.op and "output_size" in layer.kwargs else {}
        y = m(*xs, **fwd)
    env[layer.name] = y
    env_shapes[layer.name] = tuple(y.shape)
    return y


def gen_config(rng: random.Random, idx: int) -> Config:
    kind = pick(rng, [("conv", 55), ("unfold", 6), ("fold", 6), ("add", 8), ("relu", 2), ("chain", 23)])
    if kind == "conv":
        layer, shape = gen_conv(rng, "conv", "x", None)
        return Config([("x", list(shape), shape)], [layer], ["conv"], kind)
    if kind == "unfold":
        layer, shape = gen_unfold(rng, "unfold", "x", None)
        return Config([("x", list(shape), shape)], [layer], ["unfold"], kind)
    if kind == "fold":
        layer, shape = gen_fold(rng, "fold", "x", None)
        return Config([("x", list(shape), shape)], [layer], ["fold"], kind)
    if kind in ("add", "relu"):
        rank = rng.randint(0 if kind == "relu" else 1, 5)
        a = tuple(rng.choice([0, 1, 2, 3]) if rng.random() < 0.05 else rng.choice([1, 2, 3, 4]) for _ in range(rank))
        if kind == "relu":
            return Config([("x", list(a), a)], [Layer("act", "ReLU", ["x"])], ["act"], kind)
        b = broadcast_partner(rng, a)
        if rng.random() < 0.5:
            a, b = b, a
        if rng.random() < 0.1:
            return Config([("a", list(a), a)], [Layer("sum", "Add", ["a", "a"])], ["sum"], kind)
        return Config([("a", list(a), a), ("b", list(b), b)], [Layer("sum", "Add", ["a", "b"])], ["sum"], kind)
    return gen_chain(rng)


def gen_chain(rng: random.Random) -> Config:
    """2-4 layers; each is generated against the actual (torch-computed) shape of its input."""
    n = rng.randint(2, 4)
    env, shapes, modules, layers = {}, {}, {}, []
    first, shape = gen_conv(rng, "l0", "x", None, transposed=rng.random() < 0.3)
    inputs = [("x", list(shape), shape)]
    cur_layers = [first]
    env["x"] = torch.randn(tuple(shape), dtype=torch.float64) if all(isinstance(v, int) and v >= 0 for v in shape) else None
    shapes["x"] = shape
    for i in range(n):
        layer = cur_layers[-1]
        try:
            torch_layer_out(layer, shapes, modules, env)
        except Exception:  # noqa: BLE001 - a failing step ends the chain; the config is an error case
            return Config(inputs, cur_layers, [layer.name], "chain")
        if i == n - 1:
            break
        cur = layer.name
        shp = shapes[cur]
        r = rng.random()
        name = f"l{i + 1}"
        if r < 0.2:
            nxt = Layer(name, "ReLU", [cur])
        elif r < 0.4:
            same = [k for k, v in shapes.items() if k != cur and (v == shp or rng.random() < 0.1)]
            if same:
                other = rng.choice(same)
                args = [cur, other] if rng.random() < 0.5 else [other, cur]
            else:  # a second graph input that broadcasts against the current tensor
                b = broadcast_partner(rng, shp)
                bname = f"b{i}"
                inputs.append((bname, list(b), b))
                env[bname], shapes[bname] = torch.randn(tuple(b), dtype=torch.float64), b
                args = [cur, bname] if rng.random() < 0.5 else [bname, cur]
            nxt = Layer(name, "Add", args)
        elif r < 0.47 and len(shp) in (3, 4):
            nxt, _ = gen_unfold(rng, name, cur, shp)
        else:
            nxt, _ = gen_conv(rng, name, cur, shp)
        cur_layers.append(nxt)
    outs = [cur_layers[-1].name]
    if rng.random() < 0.2 and len(cur_layers) > 1:
        outs.insert(0, rng.choice(cur_layers[:-1]).name)
    return Config(inputs, cur_layers, outs, "chain")


def symbolize(rng, cfg: Config) -> None:
    """Sometimes declares some input dims by name (bound only at run time)."""
    if rng.random() > 0.12:
        return
    new = []
    first = cfg.layers[0]
    nd = int(first.op[-2]) if first.op[-2:-1].isdigit() else 2 if first.op in ("Unfold", "Fold") else None
    for j, (n, dims, shape) in enumerate(cfg.inputs):
        # convrt needs channel counts at compile time (weights depend on them): keep channel dims concrete
        channel = None if nd is None else (1 if len(dims) >= nd + 2 else 0)
        if first.op == "Fold":
            channel = 1 if len(dims) == 3 else 0
        decl = [f"{'NBHWDLC'[i % 7]}{j}" if i != channel and rng.random() < 0.4 else v
                for i, v in enumerate(dims)]
        new.append((n, decl, shape))
    cfg.inputs = new


# ----------------------------------------------------------------------------- torch oracle
def to_megengine(key, a, module):
    spatial = module.weight.dim() - 2
    if key == "bias":
        return a.reshape((1, a.shape[0]) + (1,) * spatial)
    if module.groups > 1:
        return a.reshape((module.groups, a.shape[0] // module.groups) + a.shape[1:])
    return a


def run_torch(cfg: Config, seed: int):
    """Returns dict(ok, inputs, outputs, shapes, weights, error) for the configuration.

    Everything runs in float64 (float32 CPU kernels take other code paths, some of which skip checks:
    e.g. grouped ConvTranspose3d returns an empty tensor where the generic path raises "Output size is
    too small"). Pass 1 decides success and materializes Lazy modules; the parameters are then rounded to
    float32 (what convrt gets) and pass 2 computes the reference outputs.
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    inputs = {}
    for n, _, shape in cfg.inputs:
        ok_shape = all(v >= 0 for v in shape)
        inputs[n] = torch.randn(tuple(shape), generator=gen).double() if ok_shape else None
    env, shapes, modules = dict(inputs), {}, {}
    res = {"inputs": inputs, "error": None, "weights": None}
    try:
        if any(v is None for v in inputs.values()):
            raise ValueError("negative input dim")
        with torch.no_grad():
            for layer in cfg.layers:
                torch_layer_out(layer, shapes, modules, env)
    except Exception as exc:  # noqa: BLE001
        text = str(exc).strip()
        res["error"] = f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"
        res["ok"] = False
        complete = all(l.name in modules for l in cfg.layers if is_param(l))
        lazy = any(l.op.startswith("Lazy") for l in cfg.layers)
        res["weights"] = export(cfg, modules) if complete and not lazy else None
        return res
    res["ok"] = True
    res["shapes"] = shapes
    with torch.no_grad():
        for m in modules.values():
            for p in m.parameters():
                p.copy_(p.float().double())
        env = dict(inputs)
        for layer in cfg.layers:
            torch_layer_out(layer, {}, modules, env)
    res["weights"] = export(cfg, modules)
    res["outputs"] = {o: env[o].numpy() for o in cfg.outputs}
    return res


def is_param(layer):
    return layer.op not in ("Add", "ReLU", "Unfold", "Fold")


def export(cfg, modules):
    arrays = {}
    for layer in cfg.layers:
        m = modules.get(layer.name)
        if m is None or not is_param(layer):
            continue
        for key, t in m.state_dict().items():
            a = t.detach().numpy().astype(np.float32)
            if layer.megengine:
                a = to_megengine(key, a, m)
            arrays[f"{layer.name}.{key}"] = np.ascontiguousarray(a)
    return arrays


# ----------------------------------------------------------------------------- convrt side
def sh(cmd, cwd):
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return -999, "", "TIMEOUT"


def crashed(rc, err):
    return rc < 0 or rc >= 128 or "Fatal error" in err or rc == -999


def error_lines(err):
    return [l for l in err.splitlines() if l.startswith("error: ")]


def norm_template(msg: str) -> str:
    """A message with numbers and shapes blurred, used to group distinct failure classes."""
    msg = re.sub(r"^[^:]*\.convnet:\d+:\d+:\s*", "", msg)
    msg = re.sub(r"\d+", "#", msg)
    return msg[:140]


def check(cfg: Config, tres: dict, convrt: str, work: str) -> list[tuple[str, str]]:
    """Runs convrt on the configuration; returns (class key, detail) problems."""
    has_w = tres["weights"] is not None and len(tres["weights"]) > 0
    with open(os.path.join(work, "model.convnet"), "w") as f:
        f.write(cfg.text(has_w))
    if has_w:
        np.savez(os.path.join(work, "w.npz"), **tres["weights"])
    in_args, shape_args = [], []
    for n, decl, shape in cfg.inputs:
        x = tres["inputs"].get(n)
        if x is not None:
            np.save(os.path.join(work, f"{n}.npy"), x.numpy().astype(np.float32))
        in_args += ["--input", f"{n}={n}.npy"]
        if any(isinstance(v, str) for v in decl):
            shape_args += ["--input-shape", f"{n}=" + ",".join(str(v) for v in shape)]
    if len(cfg.inputs) == 1 and random.Random(len(cfg.layers)).random() < 0.5:
        in_args = [f"{cfg.inputs[0][0]}.npy"]
    ext = "npz" if len(cfg.outputs) > 1 else "npy"
    symbolic = any(isinstance(v, str) for _, decl, _ in cfg.inputs for v in decl)
    runs = {
        "infer-convnet": [convrt, "infer", "model.convnet", *in_args, "-o", f"out1.{ext}"],
        "compile": [convrt, "compile", "model.convnet", "-o", "model.pb"],
    }
    res = {k: sh(v, work) for k, v in runs.items()}
    if res["compile"][0] == 0:
        res["infer-pb"] = sh([convrt, "infer", "model.pb", *in_args, "-o", f"out2.{ext}"], work)
        res["inspect"] = sh([convrt, "inspect", "model.pb", "--format", "json", *shape_args], work)
    else:
        res["inspect"] = sh([convrt, "inspect", "model.convnet", "--format", "json", *shape_args], work)
    problems = []
    for k, (rc, out, err) in res.items():
        if crashed(rc, err):
            why = [l.strip() for l in err.splitlines() if re.search(r"Fatal error|failed:|failure|TIMEOUT", l)]
            problems.append((f"crash:{k}:{cfg.layers[-1].op}", f"rc={rc} {(why or [''])[0][:300]}"))
    if problems:
        return problems
    if tres["ok"]:
        problems += check_success(cfg, tres, res, work, ext)
    else:
        problems += check_failure(cfg, tres, res, symbolic)
    return problems


def check_success(cfg, tres, res, work, ext):
    problems = []
    ops = "+".join(sorted({l.op for l in cfg.layers}))
    for k, (rc, out, err) in res.items():
        if rc != 0:
            msg = (error_lines(err) or [err.strip()[-200:]])[0]
            problems.append((f"wrong-reject:{k}:{norm_template(msg)}", msg))
    for key, fname in (("infer-convnet", f"out1.{ext}"), ("infer-pb", f"out2.{ext}")):
        if key not in res or res[key][0] != 0:
            continue
        path = os.path.join(work, fname)
        got = {cfg.outputs[0]: np.load(path)} if ext == "npy" else dict(np.load(path))
        for o in cfg.outputs:
            exp = tres["outputs"][o]
            g = got.get(o)
            if g is None or g.shape != exp.shape:
                problems.append((f"shape-mismatch:{key}:{ops}",
                                 f"{o}: torch {exp.shape} convrt {None if g is None else g.shape}"))
                continue
            if exp.size == 0:
                continue
            tol = 1e-4 * max(1.0, float(np.abs(exp).max()))
            errv = float(np.abs(g.astype(np.float64) - exp).max())
            if not np.isfinite(errv) or errv > tol:
                problems.append((f"value-mismatch:{key}:{ops}", f"{o}: max err {errv:.3g} tol {tol:.3g}"))
    rc, out, err = res["inspect"]
    if rc == 0:
        try:
            nodes = {n["name"]: n["output_shape"] for n in json.loads(out)["nodes"]}
            for name, shp in tres["shapes"].items():
                if name in nodes and list(nodes[name]) != list(shp):
                    problems.append((f"inspect-shape:{ops}", f"{name}: torch {list(shp)} inspect {nodes[name]}"))
            last = json.loads(out)["nodes"][-1]
            if list(last["output_shape"]) != list(tres["shapes"][cfg.layers[-1].name]):
                problems.append((f"inspect-last:{ops}", f"{last['output_shape']}"))
        except (ValueError, KeyError, IndexError) as exc:
            problems.append(("inspect-json", f"{exc}: {out[:200]}"))
    return problems


def check_failure(cfg, tres, res, symbolic):
    problems = []
    terr = tres["error"]
    tmsg = terr.split(": ", 1)[1] if ": " in terr else terr
    must_fail = ["infer-convnet"] + (["compile"] if not symbolic else ["infer-pb"] if "infer-pb" in res else [])
    for k in must_fail:
        rc, out, err = res[k]
        if rc == 0:
            problems.append((f"wrong-accept:{k}:{norm_template(terr)}", terr))
            continue
        lines = error_lines(err)
        if len(lines) != 1:
            problems.append((f"error-lines:{k}", f"{len(lines)} error lines: {err.strip()[:300]}"))
            continue
        if k == "infer-convnet" and not symbolic and norm_ws(tmsg) not in norm_ws(lines[0]):
            problems.append((f"wording:{norm_template(tmsg)}", f"torch: {terr}\nconvrt: {lines[0]}"))
    return problems


def norm_ws(s):
    return re.sub(r"\s+", " ", s).strip()


# ----------------------------------------------------------------------------- driver
def one(args):
    idx, seed, convrt, keep = args
    rng = random.Random(f"{seed}:{idx}")
    cfg = gen_config(rng, idx)
    symbolize(rng, cfg)
    tres = run_torch(cfg, seed * 100003 + idx)
    work = tempfile.mkdtemp(prefix="difftest-")
    try:
        problems = check(cfg, tres, convrt, work)
        if problems and keep:
            dest = os.path.join(keep, f"case{idx:05d}")
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(work, dest)
            with open(os.path.join(dest, "problems.txt"), "w") as f:
                f.write(f"torch: {'ok ' + str(tres.get('shapes')) if tres['ok'] else tres['error']}\n")
                f.write(f"inputs: {[(n, s) for n, _, s in cfg.inputs]}\n")
                for k, v in problems:
                    f.write(f"{k}\n    {v.replace(chr(10), ' || ')}\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return idx, cfg.text(tres["weights"] is not None and len(tres["weights"]) > 0), \
        [(n, s) for n, _, s in cfg.inputs], tres["ok"], tres["error"], problems


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--convrt", default=os.path.join(REPO, ".build", "release", "convrt"))
    ap.add_argument("--keep-failures", default=None, metavar="DIR")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--start", type=int, default=0, help="first configuration index (to replay one)")
    args = ap.parse_args(argv)
    convrt = os.path.abspath(args.convrt)
    if args.keep_failures:
        os.makedirs(args.keep_failures, exist_ok=True)
    tasks = [(i, args.seed, convrt, args.keep_failures) for i in range(args.start, args.start + args.count)]
    classes = defaultdict(list)
    n_ok = n_err = 0
    if args.jobs > 1:
        import multiprocessing as mp
        with mp.Pool(args.jobs) as pool:
            results = pool.imap_unordered(one, tasks, chunksize=4)
            for r in results:
                n_ok, n_err = tally(r, classes, n_ok, n_err)
    else:
        for t in tasks:
            n_ok, n_err = tally(one(t), classes, n_ok, n_err)
    print(f"\n{args.count} configurations (seed {args.seed}): torch ok {n_ok}, torch raised {n_err}; "
          f"{len(classes)} problem classes")
    for key in sorted(classes):
        cases = classes[key]
        idx, text, shapes, ok, terr, detail = min(cases, key=lambda c: len(c[1]))
        print(f"\n== {key}  ({len(cases)} configs, e.g. #{idx})\n   {detail}")
        print("   inputs:", shapes, "| torch:", "ok" if ok else terr)
        print("   " + text.replace("\n", "\n   ").rstrip())
    return 1 if any(not k.startswith("wording") for k in classes) else 0


def tally(r, classes, n_ok, n_err):
    idx, text, shapes, ok, terr, problems = r
    for key, detail in problems:
        classes[key].append((idx, text, shapes, ok, terr, detail))
    return (n_ok + 1, n_err) if ok else (n_ok, n_err + 1)


if __name__ == "__main__":
    sys.exit(main())
