#!/usr/bin/env python3
"""Regenerates convrt's PyTorch golden fixtures (deterministic: rerunning changes no byte).

    /work/venv/bin/python Tools/gen_fixtures.py            # write + verify everything
    /work/venv/bin/python Tools/gen_fixtures.py --check    # verify the committed files only

Writes, under Tests/ConvRTTests/Fixtures/:
  layers/<case>.convnet        the model (`weights "<case>.npz"` when it has parameters)
  layers/<case>.npz            state_dict arrays keyed `<layer>.weight` / `<layer>.bias` /
                               `<layer>.running_mean` ... (MegEngine layouts for layers with
                               conv_mode=...; BatchNorm's `num_batches_tracked` stays int64)
  layers/<case>.in.npy         float32 input (`<case>.in.<name>.npy` when several inputs)
  layers/<case>.out.npy        float32 expected output (`<case>.out.<name>.npy` when several)
  layers/manifest.json         [{case, inputs, outputs, weights, max_abs_expected}]
  errors.json                  invalid models with PyTorch's exact error text and stage

The oracle: PyTorch's modules run in float64 on the float32 weights and inputs, then the result
is rounded to float32 (so it is the exactly-rounded answer, not one float32 summation order).
Every module runs in eval() mode (BatchNorm uses its running stats, or the batch's statistics
without them); BatchNorm's weight, bias and running stats are randomized before saving.

The generator never builds torch modules directly: it writes `.convnet` text, parses it back
(`parse` below implements the DSL) and builds the modules from the parsed text, so every
committed model is by construction the network PyTorch ran. `--check` reloads the written weights
the other way round (npz -> modules, strict) and recomputes every output.
"""
from __future__ import annotations

import ast
import copy
import io
import json
import pathlib
import re
import sys
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn

warnings.simplefilter("ignore")  # 'same' + even kernel, zero-element init: expected here.
torch.set_num_threads(1)

CONV_OPS = {f"{p}{k}{n}d" for p in ("", "Lazy") for k in ("Conv", "ConvTranspose") for n in (1, 2, 3)}
BN_OPS = {f"{p}BatchNorm{n}d" for p in ("", "Lazy") for n in (1, 2, 3)}
ACTIVATION_OPS = {"ReLU", "ReLU6", "LeakyReLU", "Hardtanh", "Sigmoid", "Tanh", "SiLU", "Hardswish", "GELU"}
TENSOR_OPS = {"Linear", "LazyLinear", "Flatten", "Concat", "Softmax", "LogSoftmax", "Dropout", "Dropout1d", "Dropout2d",
              "Dropout3d", "Sub", "Mul", "Div", "Hardsigmoid"}
# Layers that are torch functions, not modules: `name = Op(a, b, key=value)` is `FUNCTIONS[Op](a, b, key=value)`.
FUNCTIONS = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div,
             "Concat": lambda *xs, dim=0: torch.cat(xs, dim=dim)}
SPATIAL_OPS = ({f"{k}Pool{n}d" for k in ("Max", "Avg", "AdaptiveMax", "AdaptiveAvg") for n in (1, 2, 3)}
               | {f"{k}Pad{n}d" for k in ("Zero", "Constant", "Reflection", "Replication", "Circular") for n in (1, 2, 3)}
               | {"Upsample"})
OPS = CONV_OPS | BN_OPS | ACTIVATION_OPS | TENSOR_OPS | SPATIAL_OPS | {"Unfold", "Fold", "Add", "Identity"}
NAME = r"[A-Za-z_][A-Za-z0-9_.]*"


# ----------------------------------------------------------------------------- DSL text
def fmt_value(v) -> str:
    """Formats a kwarg value the way the DSL spells it (Python literal, double-quoted strings)."""
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if v is None:
        return "None"
    if isinstance(v, str):
        return '"' + v + '"'
    if isinstance(v, (tuple, list)):
        items = [fmt_value(x) for x in v]
        return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    raise TypeError(f"unsupported DSL value {v!r}")


@dataclass
class Layer:
    name: str
    op: str
    args: list[str]
    kwargs: dict = field(default_factory=dict)

    def line(self) -> str:
        parts = list(self.args) + [f"{k}={fmt_value(v)}" for k, v in self.kwargs.items()]
        return f"{self.name} = {self.op}({', '.join(parts)})"


@dataclass
class Model:
    inputs: list[tuple[str, list]]  # (name, declared dims: ints or symbol names)
    layers: list[Layer]
    outputs: list[str]
    weights: str | None = None

    def text(self, header: str = "") -> str:
        lines = [f"# {h}" if h else "#" for h in header.splitlines()]
        for name, dims in self.inputs:
            lines.append(f"input {name}: [{', '.join(str(d) for d in dims)}]")
        if self.weights:
            lines.append(f'weights "{self.weights}"')
        lines += [layer.line() for layer in self.layers]
        lines += [f"output {o}" for o in self.outputs]
        return "\n".join(lines) + "\n"


def _split_top(s: str) -> list[str]:
    """Splits on commas that are not inside brackets or quotes."""
    out, depth, quote, cur = [], 0, None, ""
    for ch in s:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def parse(text: str) -> Model:
    """Parses `.convnet` text (the subset the generators emit, which is the whole grammar)."""
    m = Model([], [], [])
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if mt := re.fullmatch(rf"input\s+({NAME})\s*:\s*\[(.*)\]", line):
            dims = [int(d) if re.fullmatch(r"-?\d+", d) else d for d in _split_top(mt[2])]
            m.inputs.append((mt[1], dims))
        elif mt := re.fullmatch(r'weights\s+"([^"]*)"', line):
            m.weights = mt[1]
        elif mt := re.fullmatch(rf"output\s+({NAME})", line):
            m.outputs.append(mt[1])
        elif mt := re.fullmatch(rf"({NAME})\s*=\s*({NAME})\s*\((.*)\)", line):
            args, kwargs = [], {}
            for part in _split_top(mt[3]):
                if kv := re.fullmatch(r"([A-Za-z_]\w*)\s*=\s*(.*)", part):
                    kwargs[kv[1]] = ast.literal_eval(kv[2])
                else:
                    args.append(part)
            assert mt[2] in OPS, f"line {lineno}: unknown op {mt[2]}"
            m.layers.append(Layer(mt[1], mt[2], args, kwargs))
        else:
            raise SyntaxError(f"line {lineno}: cannot parse {raw!r}")
    return m


# ----------------------------------------------------------------------------- torch side
@dataclass
class Built:
    layer: Layer
    module: nn.Module | None
    forward_kwargs: dict
    megengine: bool


def build(model: Model) -> dict[str, Built]:
    """Constructs one torch module per layer (raises what the constructors raise)."""
    built = {}
    for layer in model.layers:
        kw = dict(layer.kwargs)
        fwd, mge = {}, False
        if layer.op in CONV_OPS:
            mode = kw.pop("conv_mode", None)
            if mode is not None:
                assert mode == "cross_correlation"
                mge = True
            if "ConvTranspose" in layer.op and "output_size" in kw:
                fwd["output_size"] = list(kw.pop("output_size"))
        if layer.op in FUNCTIONS:
            module = None
        elif layer.op == "Identity":  # nn.Identity(*args, **kwargs): positionals after the input too
            module = nn.Identity(*[ast.literal_eval(a) for a in layer.args[1:]], **kw)
        else:
            module = getattr(nn, layer.op)(**kw)
        if module is not None:
            module.eval()  # inference semantics (BatchNorm); no other op cares
        built[layer.name] = Built(layer, module, fwd, mge)
    return built


def run(model: Model, built: dict[str, Built], inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Runs the layers in file order; returns the declared outputs."""
    env = dict(inputs)
    for layer in model.layers:
        b = built[layer.name]
        xs = [env[a] for a in (layer.args[:1] if layer.op == "Identity" else layer.args)]
        if layer.op in FUNCTIONS:
            env[layer.name] = FUNCTIONS[layer.op](*xs, **layer.kwargs)
        else:
            env[layer.name] = b.module(*xs, **b.forward_kwargs)
    return {o: env[o] for o in model.outputs}


def run_float64(model: Model, built: dict[str, Built], inputs: dict[str, torch.Tensor]):
    """The oracle: the float32 weights and inputs, widened to float64 and run there."""
    built64 = {k: Built(b.layer, copy.deepcopy(b.module), b.forward_kwargs, b.megengine) for k, b in built.items()}
    for b in built64.values():
        if b.module is not None:
            b.module.double()
    with torch.no_grad():
        out = run(model, built64, {k: v.double() for k, v in inputs.items()})
    return {k: v.float() for k, v in out.items()}


def export_weights(built: dict[str, Built]) -> dict[str, np.ndarray]:
    """state_dict arrays keyed `<layer>.<param>`; MegEngine layers use MegEngine's layouts."""
    arrays = {}
    for name, b in built.items():
        if b.module is None:
            continue
        for key, t in b.module.state_dict().items():
            a = t.detach().cpu().numpy()
            if key != "num_batches_tracked":  # an int64 counter in every real state_dict
                a = a.astype(np.float32)
            if b.megengine:
                a = to_megengine(key, a, b.module)
            arrays[f"{name}.{key}"] = np.ascontiguousarray(a)
    return arrays


def to_megengine(key: str, a: np.ndarray, module: nn.Module) -> np.ndarray:
    """MegEngine layouts: bias (1, out, 1, ...); grouped weight (groups, out/g, in/g, *k)."""
    spatial = module.weight.dim() - 2
    if key == "bias":
        return a.reshape((1, a.shape[0]) + (1,) * spatial)
    if module.groups > 1:
        return a.reshape((module.groups, a.shape[0] // module.groups) + a.shape[1:])
    return a


def load_weights(built: dict[str, Built], arrays: dict[str, np.ndarray]) -> None:
    """Loads `<layer>.<param>` arrays strictly (every key used, every parameter set)."""
    used = set()
    for name, b in built.items():
        if b.module is None:
            continue
        sd = {}
        for key in list(b.module.state_dict().keys()):
            a = arrays[f"{name}.{key}"]
            used.add(f"{name}.{key}")
            if b.megengine:  # back from MegEngine's layout; the element order is the same
                a = a.reshape(tuple(getattr(b.module, key).shape))
            sd[key] = torch.from_numpy(np.array(a))
        b.module.load_state_dict(sd, strict=True)
    extra = set(arrays) - used
    assert not extra, f"unused weights {sorted(extra)}"


# ----------------------------------------------------------------------------- files
def save_npy(path, a: np.ndarray) -> None:
    np.save(path, np.array(a, order="C"))  # (np.ascontiguousarray turns a 0-d array into 1-d)


def save_npz(path, arrays: dict[str, np.ndarray]) -> None:
    """Like np.savez (stored, zip64 extras) but with a fixed timestamp so the bytes are reproducible."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for key, a in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(a), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            with zf.open(info, "w", force_zip64=True) as f:
                f.write(buf.getvalue())


def load_npz(path) -> dict[str, np.ndarray]:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


# ----------------------------------------------------------------------------- cases
@dataclass
class Case:
    name: str
    model: Model
    shapes: dict[str, tuple]  # concrete shape of each input
    input_scale: float = 1.0  # inputs are randn * input_scale (wide ranges for activations)
    bn_init: str = "random"  # "random": randomized BatchNorm tensors; "default": PyTorch's init


def single(name, op, shape, layer="conv", decl=None, scale=1.0, bn_init="random", **kw) -> Case:
    """One layer applied to one input `x`."""
    model = Model([("x", list(decl or shape))], [Layer(layer, op, ["x"], kw)], [layer])
    return Case(name, model, {"x": tuple(shape)}, scale, bn_init)


def per_dim(nd, *vals):
    """The first `nd` values as a tuple (for asymmetric per-dimension arguments)."""
    return tuple(vals[:nd])


CONV_SHAPE = {1: (9,), 2: (7, 8), 3: (5, 6, 5)}
CONVT_SHAPE = {1: (7,), 2: (5, 6), 3: (4, 5, 4)}


def conv_cases(nd: int) -> list[Case]:
    op, p = f"Conv{nd}d", f"conv{nd}d"
    S = CONV_SHAPE[nd]
    cin, cout = (3, 4) if nd < 3 else (2, 3)
    cases = []

    def add(suffix, ci=cin, co=cout, shape=None, **kw):
        shape = shape if shape is not None else (1, ci) + S
        cases.append(single(f"{p}_{suffix}", op, shape, in_channels=ci, out_channels=co, **kw))

    add("k3", kernel_size=3)
    add("k4", kernel_size=4)
    full = nd == 2  # 2-D gets every variant; 1-D and 3-D a subset
    if nd < 3:
        add("k1", kernel_size=1)
    add("k3_s2", kernel_size=3, stride=2)
    add("k2_s3", kernel_size=2, stride=3)  # stride > kernel: skipped pixels
    add("k3_p1", kernel_size=3, padding=1)
    if nd < 3:
        add("k3_s2_p2", kernel_size=3, stride=2, padding=2)
    add("k3_d2", kernel_size=3, dilation=2)
    if nd < 3:
        add("k2_d3_p1", kernel_size=2, dilation=3, padding=1)
    add("k3_same", kernel_size=3, padding="same")
    add("k4_same", kernel_size=4, padding="same")  # total 3: (1, 2)
    if nd < 3:
        add("k2_same", kernel_size=2, padding="same")  # total 1: (0, 1)
    if nd < 3:
        add("k3_same_d2", kernel_size=3, padding="same", dilation=2)
    add("k4_same_d3", kernel_size=4, padding="same", dilation=3)  # total 9: (4, 5)
    add("k3_valid", kernel_size=3, padding="valid")
    if full:
        add("k3_p1_zeros", kernel_size=3, padding=1, padding_mode="zeros")
    add("k3_p1_g2", ci=4, co=6, kernel_size=3, padding=1, groups=2)
    add("k2_s2_g3", ci=6, co=3, kernel_size=2, stride=2, groups=3)
    add("k3_p1_depthwise", ci=4, co=4, kernel_size=3, padding=1, groups=4)
    add("k3_depthwise_mult2", ci=3, co=6, kernel_size=3, groups=3)
    add("k3_nobias", kernel_size=3, bias=False)
    if full:
        add("k3_c1", ci=1, co=1, kernel_size=3)
    for mode in ("reflect", "replicate", "circular"):
        add(f"k3_p1_{mode}", kernel_size=3, padding=1, padding_mode=mode)
        if full or (nd == 3 and mode == "reflect"):
            add(f"k3_p{''.join(map(str, per_dim(nd, 1, 2, 0)))}_{mode}", kernel_size=3,
                padding=per_dim(nd, 1, 2, 0), padding_mode=mode)
        if nd < 3 or mode == "reflect":
            add(f"k4_same_{mode}", kernel_size=4, padding="same", padding_mode=mode)
        if nd < 3:
            add(f"k3_same_{mode}", kernel_size=3, padding="same", padding_mode=mode)
        if full and mode != "replicate":
            add(f"k3_same_d2_{mode}", kernel_size=3, padding="same", dilation=2, padding_mode=mode)
        if full and mode == "reflect":
            add(f"k3_s2_p1_{mode}", kernel_size=3, stride=2, padding=1, padding_mode=mode)
    # Padding at each mode's limit: reflect < size, circular <= size, replicate unlimited.
    small = (1, 2) + (5,) * nd
    add("k3_pmax_reflect", ci=2, shape=small, kernel_size=3, padding=4, padding_mode="reflect")
    add("k3_pmax_circular", ci=2, shape=small, kernel_size=3, padding=5, padding_mode="circular")
    add("k3_p7_replicate", ci=2, shape=small, kernel_size=3, padding=7, padding_mode="replicate")
    add("k3_unbatched", shape=(cin,) + S, kernel_size=3)
    add("k3_unbatched_same_reflect", shape=(cin,) + S, kernel_size=3, padding="same", padding_mode="reflect")
    if nd < 3:
        add("k3_unbatched_p1_circular", shape=(cin,) + S, kernel_size=3, padding=1, padding_mode="circular")
    add("k3_batch0", shape=(0, cin) + S, kernel_size=3, padding=1)
    if full:
        add("k3_batch0_reflect", shape=(0, cin) + S, kernel_size=3, padding=1, padding_mode="reflect")
    add("k3_batch3", shape=(3, cin) + S, kernel_size=3, stride=2)
    # Kernel exactly the padded input: one output pixel.
    add("kfull_p1", kernel_size=tuple(s + 2 for s in S) if nd > 1 else S[0] + 2, padding=1)
    if nd == 1:
        add("tuple1_args", kernel_size=(3,), stride=(2,), padding=(1,), dilation=(1,))
        add("k5_d2_s2_p3_g3", ci=3, co=6, kernel_size=5, dilation=2, stride=2, padding=3, groups=3)
    else:
        add("kasym", kernel_size=per_dim(nd, 2, 3, 1))
        add("k3_sasym", kernel_size=3, stride=per_dim(nd, 1, 2, 3) if nd == 2 else (2, 1, 3))
        add("k3_dasym", kernel_size=3, dilation=per_dim(nd, 2, 1) if nd == 2 else (1, 2, 1))
        if full:
            add("k3_pasym", kernel_size=3, padding=per_dim(nd, 1, 2))
        add("kasym_same_dasym", kernel_size=per_dim(nd, 2, 3, 2), padding="same",
            dilation=per_dim(nd, 1, 2) if nd == 2 else (2, 1, 1))
        if full:
            add("kasym_same_dasym_reflect", kernel_size=per_dim(nd, 2, 3, 2), padding="same",
                dilation=per_dim(nd, 1, 2), padding_mode="reflect")
        add("kasym_pasym_replicate", kernel_size=per_dim(nd, 3, 2, 1), padding=per_dim(nd, 2, 1, 0),
            padding_mode="replicate")
        add("all_params", ci=4, co=6, kernel_size=per_dim(nd, 3, 2, 1), stride=per_dim(nd, 2, 1, 1),
            padding=per_dim(nd, 1, 0, 1), dilation=per_dim(nd, 1, 2, 1), groups=2, bias=False)
        add("all_params_circular", ci=4, co=2, kernel_size=per_dim(nd, 3, 2, 2), stride=per_dim(nd, 2, 1, 2),
            padding=per_dim(nd, 1, 2, 1), dilation=per_dim(nd, 1, 2, 1), groups=2, padding_mode="circular")
    return cases


def convt_cases(nd: int) -> list[Case]:
    op, p = f"ConvTranspose{nd}d", f"convtranspose{nd}d"
    S = CONVT_SHAPE[nd]
    cin, cout = (3, 4) if nd < 3 else (2, 3)
    cases = []

    def add(suffix, ci=cin, co=cout, shape=None, **kw):
        shape = shape if shape is not None else (1, ci) + S
        cases.append(single(f"{p}_{suffix}", op, shape, layer="deconv", in_channels=ci, out_channels=co, **kw))

    def size(L, k, s=1, pad=0, d=1, op_=0):
        return (L - 1) * s - 2 * pad + d * (k - 1) + op_ + 1

    full = nd == 2  # 2-D gets every variant; 1-D and 3-D a subset
    add("k3", kernel_size=3)
    add("k4", kernel_size=4)
    if nd < 3:
        add("k1_s2", kernel_size=1, stride=2)
    add("k3_s2", kernel_size=3, stride=2)
    add("k2_s2", kernel_size=2, stride=2)
    add("k2_s3", kernel_size=2, stride=3)  # stride > kernel: zero gaps
    if nd < 3:
        add("k3_p1", kernel_size=3, padding=1)
    add("k4_s2_p1", kernel_size=4, stride=2, padding=1)
    add("k3_s2_p3", kernel_size=3, stride=2, padding=3)  # padding > d(k-1), output still >= 1
    add("k3_s2_op1", kernel_size=3, stride=2, output_padding=1)
    if nd < 3:
        add("k3_s3_p1_op2", kernel_size=3, stride=3, padding=1, output_padding=2)
    add("k3_s1_d2_op1", kernel_size=3, stride=1, dilation=2, output_padding=1)  # op < dilation, >= stride
    if nd < 3:
        add("k3_d2", kernel_size=3, dilation=2)
    add("k3_s2_p2_d2_op1", kernel_size=3, stride=2, padding=2, dilation=2, output_padding=1)
    add("k3_s2_g2", ci=4, co=6, kernel_size=3, stride=2, groups=2)
    add("k3_p1_depthwise", ci=4, co=4, kernel_size=3, padding=1, groups=4)
    if nd < 3:
        add("k2_s2_g2_mult2", ci=2, co=4, kernel_size=2, stride=2, groups=2)
    add("k3_nobias", kernel_size=3, bias=False)
    add("k3_unbatched", shape=(cin,) + S, kernel_size=3, stride=2)
    add("k3_batch0", shape=(0, cin) + S, kernel_size=3, stride=2)
    if nd < 3:
        add("k3_batch3", shape=(3, cin) + S, kernel_size=3, stride=2, padding=1)
    # output_size: spatial-only or all dims, batched and unbatched; max and min of the valid range.
    mx = tuple(size(L, 3, 2, 1) + 1 for L in S)
    mn = tuple(size(L, 3, 2, 1) for L in S)
    add("k3_s2_p1_outsize", kernel_size=3, stride=2, padding=1, output_size=mx)  # 1-D: a 1-tuple
    if nd < 3:
        add("k3_s2_p1_outsize_min", kernel_size=3, stride=2, padding=1, output_size=mn)
    add("k3_s2_p1_outsize_full", shape=(2, cin) + S, kernel_size=3, stride=2, padding=1,
        output_size=(2, cout) + mx)
    if nd < 3:
        add("k3_s2_p1_outsize_unbatched", shape=(cin,) + S, kernel_size=3, stride=2, padding=1, output_size=mx)
    add("k3_s2_p1_outsize_full_unbatched", shape=(cin,) + S, kernel_size=3, stride=2, padding=1,
        output_size=(cout,) + mx)
    if nd < 3:
        add("k3_s3_d2_outsize", kernel_size=3, stride=3, dilation=2,
            output_size=tuple(size(L, 3, 3, 0, 2) + 2 for L in S))
    if nd > 1:
        add("asym", kernel_size=per_dim(nd, 2, 3, 2), stride=per_dim(nd, 2, 1, 3), padding=per_dim(nd, 1, 0, 1),
            output_padding=per_dim(nd, 1, 0, 2), dilation=per_dim(nd, 1, 2, 1))
        add("asym_g2", ci=4, co=2, kernel_size=per_dim(nd, 3, 2, 1), stride=per_dim(nd, 1, 2, 2),
            padding=per_dim(nd, 0, 1, 0), output_padding=per_dim(nd, 0, 1, 1), groups=2, bias=False)
        if full:
            add("asym_outsize", kernel_size=per_dim(nd, 2, 3, 2), stride=per_dim(nd, 3, 2, 2),
                output_size=tuple(size(L, k, s) + e for L, k, s, e in zip(S, (2, 3, 2), (3, 2, 2), (2, 0, 1))))
    return cases


def lazy_cases() -> list[Case]:
    c = []
    c.append(single("lazyconv1d_k3", "LazyConv1d", (1, 3, 9), out_channels=4, kernel_size=3))
    c.append(single("lazyconv1d_same_g3_mult2", "LazyConv1d", (2, 3, 9), out_channels=6, kernel_size=4,
                    padding="same", groups=3))
    c.append(single("lazyconv2d_same_reflect", "LazyConv2d", (1, 3, 7, 8), out_channels=4, kernel_size=(3, 3),
                    padding="same", padding_mode="reflect"))
    c.append(single("lazyconv2d_s2_g2", "LazyConv2d", (2, 4, 7, 8), out_channels=4, kernel_size=3, stride=2,
                    groups=2))
    c.append(single("lazyconv2d_unbatched", "LazyConv2d", (3, 6, 6), out_channels=2, kernel_size=2,
                    dilation=2, bias=False))
    c.append(single("lazyconv3d_k2_p1", "LazyConv3d", (1, 2, 4, 5, 4), out_channels=3, kernel_size=2, padding=1))
    c.append(single("lazyconv3d_g2_circular", "LazyConv3d", (1, 4, 4, 5, 4), out_channels=2, kernel_size=3,
                    padding=1, groups=2, padding_mode="circular"))
    c.append(single("lazyconvtranspose1d_s2", "LazyConvTranspose1d", (1, 3, 7), layer="deconv", out_channels=2,
                    kernel_size=3, stride=2))
    c.append(single("lazyconvtranspose2d_s2_g2_op1", "LazyConvTranspose2d", (1, 4, 5, 6), layer="deconv",
                    out_channels=6, kernel_size=3, stride=2, output_padding=1, groups=2))
    c.append(single("lazyconvtranspose2d_outsize", "LazyConvTranspose2d", (1, 3, 5, 6), layer="deconv",
                    out_channels=2, kernel_size=4, stride=2, padding=1, output_size=(11, 13)))
    c.append(single("lazyconvtranspose2d_unbatched_d2", "LazyConvTranspose2d", (3, 5, 5), layer="deconv",
                    out_channels=2, kernel_size=3, dilation=2))
    c.append(single("lazyconvtranspose3d_k2_s2", "LazyConvTranspose3d", (1, 2, 3, 4, 3), layer="deconv",
                    out_channels=3, kernel_size=2, stride=2))
    return c


def unfold_fold_cases() -> list[Case]:
    c = []

    def unfold(suffix, shape, **kw):
        c.append(single(f"unfold_{suffix}", "Unfold", shape, layer="unfold", **kw))

    def fold(suffix, shape, **kw):
        c.append(single(f"fold_{suffix}", "Fold", shape, layer="fold", **kw))

    x = (1, 2, 6, 7)
    unfold("k2", x, kernel_size=2)
    unfold("k2x3", x, kernel_size=(2, 3))
    unfold("k3_d2", x, kernel_size=3, dilation=2)
    unfold("k2_p1", x, kernel_size=2, padding=1)
    unfold("k3_p1x2", x, kernel_size=3, padding=(1, 2))
    unfold("k2_s2", x, kernel_size=2, stride=2)
    unfold("k2_s2x1", x, kernel_size=2, stride=(2, 1))
    unfold("k2x3_d2x1_p1x0_s2x1", x, kernel_size=(2, 3), dilation=(2, 1), padding=(1, 0), stride=(2, 1))
    unfold("k3_full", (1, 2, 4, 5), kernel_size=(4, 5))  # kernel == input: L = 1
    unfold("k2_batch3", (3, 2, 5, 5), kernel_size=2, stride=(1, 2))
    unfold("k2_batch0", (0, 2, 5, 5), kernel_size=2)
    unfold("unbatched_k2", (2, 6, 7), kernel_size=2)
    unfold("unbatched_k3x2_d1x2_p1_s2", (3, 6, 7), kernel_size=(3, 2), dilation=(1, 2), padding=1, stride=2)

    fold("k2", (1, 8, 12), output_size=(4, 5), kernel_size=2)
    fold("outsize_int_k2", (1, 4, 16), output_size=5, kernel_size=2)
    fold("k3_d2", (1, 9, 6), output_size=(6, 7), kernel_size=3, dilation=2)
    fold("k2_p1", (1, 4, 30), output_size=(4, 5), kernel_size=2, padding=1)
    fold("k2_s2", (1, 8, 9), output_size=(6, 6), kernel_size=2, stride=2)
    fold("k3_overlap", (1, 9, 9), output_size=(5, 5), kernel_size=3)
    fold("k2x3_d1x2_p1x0_s2x1", (1, 12, 4 * 2), output_size=(6, 6), kernel_size=(2, 3), dilation=(1, 2),
         padding=(1, 0), stride=(2, 1))
    fold("k3_single_block", (2, 18, 1), output_size=(3, 3), kernel_size=3)
    fold("k2_batch3", (3, 4, 12), output_size=(4, 5), kernel_size=2)
    fold("k2_batch0", (0, 4, 12), output_size=(4, 5), kernel_size=2)
    fold("unbatched_k2", (8, 12), output_size=(4, 5), kernel_size=2)
    fold("unbatched_k2_s2_p1", (4, 12), output_size=(5, 6), kernel_size=2, stride=2, padding=1)

    def chain(name, shape, uk, fk, out):
        m = Model([("x", list(shape))],
                  [Layer("cols", "Unfold", ["x"], uk), Layer("img", "Fold", ["cols"], dict(output_size=out, **fk))],
                  ["img"])
        c.append(Case(name, m, {"x": shape}))

    chain("fold_unfold_k2_s2", (1, 3, 6, 8), dict(kernel_size=2, stride=2), dict(kernel_size=2, stride=2), (6, 8))
    chain("fold_unfold_k3_p1_overlap", (2, 2, 5, 6), dict(kernel_size=3, padding=1), dict(kernel_size=3, padding=1),
          (5, 6))
    chain("fold_unfold_k2x3_d2x1_s1x2", (1, 2, 7, 7), dict(kernel_size=(2, 3), dilation=(2, 1), stride=(1, 2)),
          dict(kernel_size=(2, 3), dilation=(2, 1), stride=(1, 2)), (7, 7))
    chain("fold_unfold_unbatched", (2, 6, 6), dict(kernel_size=2, padding=1, stride=2),
          dict(kernel_size=2, padding=1, stride=2), (6, 6))
    return c


def megengine_cases() -> list[Case]:
    c = []

    def add(name, op, shape, **kw):
        c.append(single(name, op, shape, in_channels=shape[1], **kw, conv_mode="cross_correlation"))

    add("megengine_conv1d_g2", "Conv1d", (1, 4, 9), out_channels=6, kernel_size=3, padding=1, groups=2)
    add("megengine_conv2d_g2", "Conv2d", (1, 4, 7, 8), out_channels=6, kernel_size=3, stride=2, padding=1, groups=2)
    add("megengine_conv2d_depthwise", "Conv2d", (1, 4, 6, 6), out_channels=4, kernel_size=3, padding=1, groups=4)
    add("megengine_conv2d_g3_nobias", "Conv2d", (1, 6, 6, 7), out_channels=3, kernel_size=(2, 3), dilation=(2, 1),
        groups=3, bias=False)
    add("megengine_conv2d_g1", "Conv2d", (1, 3, 6, 6), out_channels=4, kernel_size=3)  # only the bias is reshaped
    add("megengine_conv3d_g2", "Conv3d", (1, 4, 4, 5, 4), out_channels=4, kernel_size=(1, 3, 2), padding=(0, 1, 1),
        groups=2)
    add("megengine_conv3d_g4_s2", "Conv3d", (1, 4, 5, 5, 5), out_channels=8, kernel_size=3, stride=2, groups=4)
    return c


def net_cases() -> list[Case]:
    c = []

    def net(name, inputs, layers, outputs, shapes=None):
        model = Model([(n, list(d)) for n, d in inputs], [Layer(*l) for l in layers], outputs)
        c.append(Case(name, model, shapes or {n: tuple(d) for n, d in inputs}))

    net("relu_basic", [("x", (1, 2, 4, 5))], [("act", "ReLU", ["x"])], ["act"])
    net("add_basic", [("a", (1, 2, 4, 5)), ("b", (1, 2, 4, 5))], [("sum", "Add", ["a", "b"])], ["sum"])
    net("net_residual2d", [("x", (1, 3, 8, 8))], [
        ("stem", "Conv2d", ["x"], dict(in_channels=3, out_channels=6, kernel_size=3, padding=1)),
        ("stem_act", "ReLU", ["stem"]),
        ("body", "Conv2d", ["stem_act"], dict(in_channels=6, out_channels=6, kernel_size=3, padding="same",
                                               padding_mode="reflect")),
        ("body_act", "ReLU", ["body"]),
        ("sum", "Add", ["body_act", "stem"]),
    ], ["sum"])
    net("net_two_inputs", [("a", (1, 2, 7, 7)), ("b", (1, 3, 7, 7))], [
        ("conv_a", "Conv2d", ["a"], dict(in_channels=2, out_channels=4, kernel_size=3, padding=1)),
        ("conv_b", "Conv2d", ["b"], dict(in_channels=3, out_channels=4, kernel_size=1)),
        ("sum", "Add", ["conv_a", "conv_b"]),
        ("act", "ReLU", ["sum"]),
    ], ["act"])
    net("net_two_outputs", [("x", (1, 3, 6, 6))], [
        ("trunk", "Conv2d", ["x"], dict(in_channels=3, out_channels=4, kernel_size=3, padding=1)),
        ("trunk_act", "ReLU", ["trunk"]),
        ("head_cls", "Conv2d", ["trunk_act"], dict(in_channels=4, out_channels=2, kernel_size=1)),
        ("head_up", "ConvTranspose2d", ["trunk_act"], dict(in_channels=4, out_channels=1, kernel_size=2, stride=2)),
    ], ["head_cls", "head_up"])
    net("net_multi_io", [("img", (2, 2, 6, 6)), ("mask", (2, 3, 6, 6))], [
        ("enc", "Conv2d", ["img"], dict(in_channels=2, out_channels=3, kernel_size=3, padding=1,
                                         padding_mode="replicate")),
        ("mix", "Add", ["enc", "mask"]),
        ("mix_act", "ReLU", ["mix"]),
        ("down", "Conv2d", ["mix_act"], dict(in_channels=3, out_channels=4, kernel_size=2, stride=2)),
    ], ["mix", "down"])
    net("net_symbolic_dims", [("x", ("N", 4, "H", "W"))], [
        ("conv1", "Conv2d", ["x"], dict(in_channels=4, out_channels=4, kernel_size=3, padding="same", groups=2)),
        ("act1", "ReLU", ["conv1"]),
        ("res", "Add", ["act1", "x"]),
        ("conv2", "Conv2d", ["res"], dict(in_channels=4, out_channels=2, kernel_size=2, stride=2)),
        ("up", "ConvTranspose2d", ["conv2"], dict(in_channels=2, out_channels=3, kernel_size=2, stride=2,
                                                   output_padding=1)),
    ], ["up"], shapes={"x": (2, 4, 6, 7)})
    net("net_encoder_decoder", [("x", (1, 3, 8, 8))], [
        ("enc", "Conv2d", ["x"], dict(in_channels=3, out_channels=6, kernel_size=3, stride=2, padding=1)),
        ("enc_act", "ReLU", ["enc"]),
        ("dec", "ConvTranspose2d", ["enc_act"], dict(in_channels=6, out_channels=3, kernel_size=3, stride=2,
                                                      padding=1, output_size=(8, 8))),
        ("skip", "Add", ["dec", "x"]),
    ], ["skip"])
    net("net_dilated1d", [("wav", (1, 2, 24))], [
        ("block0", "Conv1d", ["wav"], dict(in_channels=2, out_channels=4, kernel_size=3, padding=1)),
        ("block0_act", "ReLU", ["block0"]),
        ("block1", "Conv1d", ["block0_act"], dict(in_channels=4, out_channels=4, kernel_size=3, dilation=2,
                                                   padding=2)),
        ("block1_act", "ReLU", ["block1"]),
        ("block1_res", "Add", ["block1_act", "block0"]),
        ("block2", "Conv1d", ["block1_res"], dict(in_channels=4, out_channels=4, kernel_size=3, dilation=4,
                                                   padding="same", padding_mode="reflect")),
        ("block2_res", "Add", ["block2", "block1_res"]),
        ("down", "Conv1d", ["block2_res"], dict(in_channels=4, out_channels=2, kernel_size=4, stride=4)),
    ], ["down"])
    net("net_grouped3d", [("vol", (1, 4, 4, 5, 4))], [
        ("conv", "Conv3d", ["vol"], dict(in_channels=4, out_channels=4, kernel_size=3, padding=1, groups=2)),
        ("act", "ReLU", ["conv"]),
        ("dw", "Conv3d", ["act"], dict(in_channels=4, out_channels=4, kernel_size=(1, 3, 3), padding=(0, 1, 1),
                                        groups=4, padding_mode="replicate")),
        ("res", "Add", ["dw", "act"]),
        ("up", "ConvTranspose3d", ["res"], dict(in_channels=4, out_channels=2, kernel_size=(1, 2, 2),
                                                 stride=(1, 2, 2))),
    ], ["up"])
    net("net_unfold_fold", [("x", (1, 2, 6, 6))], [
        ("conv", "Conv2d", ["x"], dict(in_channels=2, out_channels=3, kernel_size=3, padding=1)),
        ("cols", "Unfold", ["conv"], dict(kernel_size=2, stride=2)),
        ("cols_act", "ReLU", ["cols"]),
        ("img", "Fold", ["cols_act"], dict(output_size=(6, 6), kernel_size=2, stride=2)),
        ("sum", "Add", ["img", "conv"]),
    ], ["sum"])
    net("net_dotted_names", [("x", (1, 3, 7, 7))], [
        ("features.0", "Conv2d", ["x"], dict(in_channels=3, out_channels=4, kernel_size=3, padding=1)),
        ("features.1", "ReLU", ["features.0"]),
        ("features.2", "Conv2d", ["features.1"], dict(in_channels=4, out_channels=4, kernel_size=3, stride=2)),
        ("classifier.conv", "Conv2d", ["features.2"], dict(in_channels=4, out_channels=2, kernel_size=1)),
    ], ["classifier.conv"])
    net("net_lazy_mix", [("x", (1, 3, 7, 7))], [
        ("stem", "Conv2d", ["x"], dict(in_channels=3, out_channels=4, kernel_size=3, padding=1)),
        ("body", "LazyConv2d", ["stem"], dict(out_channels=4, kernel_size=3, padding="same",
                                               padding_mode="circular")),
        ("act", "ReLU", ["body"]),
        ("sum", "Add", ["act", "stem"]),
        ("up", "LazyConvTranspose2d", ["sum"], dict(out_channels=2, kernel_size=2, stride=2)),
    ], ["up"])
    net("net_megengine_mix", [("x", (1, 4, 6, 6))], [
        ("conv1", "Conv2d", ["x"], dict(in_channels=4, out_channels=4, kernel_size=3, padding=1, groups=2,
                                         conv_mode="cross_correlation")),
        ("act", "ReLU", ["conv1"]),
        ("conv2", "Conv2d", ["act"], dict(in_channels=4, out_channels=4, kernel_size=3, padding=1)),
        ("sum", "Add", ["conv2", "x"]),
    ], ["sum"])
    net("net_unbatched", [("x", (2, 6, 6))], [
        ("conv", "Conv2d", ["x"], dict(in_channels=2, out_channels=3, kernel_size=3, padding=1)),
        ("up", "ConvTranspose2d", ["conv"], dict(in_channels=3, out_channels=2, kernel_size=2, stride=2)),
        ("cols", "Unfold", ["up"], dict(kernel_size=3, stride=3)),
        ("img", "Fold", ["cols"], dict(output_size=(12, 12), kernel_size=3, stride=3)),
        ("act", "ReLU", ["img"]),
    ], ["act", "conv"])
    return c


def batch_norm_cases() -> list[Case]:
    c = []

    def bn(name, op, shape, **kw):
        c.append(single(name, op, shape, layer="bn", **kw))

    bn("batchnorm1d_2d_input", "BatchNorm1d", (5, 4), num_features=4)
    bn("batchnorm1d_3d_input", "BatchNorm1d", (3, 4, 7), num_features=4)
    bn("batchnorm1d_eps1e_3", "BatchNorm1d", (2, 3, 6), num_features=3, eps=1e-3)
    bn("batchnorm1d_no_running_stats_2d_input", "BatchNorm1d", (4, 3), num_features=3, track_running_stats=False)
    bn("batchnorm1d_no_running_stats_3d_input", "BatchNorm1d", (2, 3, 5), num_features=3,
       track_running_stats=False)
    bn("batchnorm1d_batch0", "BatchNorm1d", (0, 4), num_features=4)
    bn("batchnorm2d", "BatchNorm2d", (2, 3, 5, 6), num_features=3)
    bn("batchnorm2d_default_init", "BatchNorm2d", (2, 3, 4, 5), num_features=3, bn_init="default")
    bn("batchnorm2d_all_args", "BatchNorm2d", (2, 3, 4, 5), num_features=3, eps=1e-5, momentum=0.1, affine=True,
       track_running_stats=True)
    bn("batchnorm2d_affine_false", "BatchNorm2d", (2, 3, 4, 5), num_features=3, affine=False)
    bn("batchnorm2d_no_running_stats", "BatchNorm2d", (2, 3, 4, 5), num_features=3, track_running_stats=False)
    bn("batchnorm2d_no_running_stats_affine_false", "BatchNorm2d", (3, 2, 3, 3), num_features=2, affine=False,
       track_running_stats=False)
    bn("batchnorm2d_no_running_stats_batch1", "BatchNorm2d", (1, 3, 2, 1), num_features=3,
       track_running_stats=False)  # 2 values per channel: enough
    bn("batchnorm2d_no_running_stats_offset", "BatchNorm2d", (2, 3, 4, 4), num_features=3,
       track_running_stats=False, scale=30.0)
    bn("batchnorm2d_momentum_none", "BatchNorm2d", (2, 3, 4, 5), num_features=3, momentum=None)
    bn("batchnorm2d_momentum_int", "BatchNorm2d", (2, 3, 4, 5), num_features=3, momentum=1)
    bn("batchnorm2d_eps_half", "BatchNorm2d", (2, 3, 4, 5), num_features=3, eps=0.5)
    bn("batchnorm2d_eps_int", "BatchNorm2d", (2, 3, 4, 5), num_features=3, eps=1)
    bn("batchnorm2d_eps_zero", "BatchNorm2d", (2, 3, 4, 5), num_features=3, eps=0.0)
    bn("batchnorm2d_large_input", "BatchNorm2d", (2, 3, 4, 5), num_features=3, scale=100.0)
    bn("batchnorm2d_batch0", "BatchNorm2d", (0, 3, 4, 4), num_features=3)
    bn("batchnorm2d_batch0_no_running_stats", "BatchNorm2d", (0, 3, 4, 4), num_features=3,
       track_running_stats=False)
    bn("batchnorm2d_spatial0", "BatchNorm2d", (2, 3, 0, 4), num_features=3)
    # PyTorch skips every size check on an empty input, and has none without weight or running stats.
    bn("batchnorm2d_empty_channels_mismatch", "BatchNorm2d", (1, 0, 4, 4), num_features=3)
    bn("batchnorm2d_zero_features_stats_only", "BatchNorm2d", (1, 0, 4, 4), num_features=0, affine=False)
    bn("batchnorm2d_no_tensors_features_mismatch", "BatchNorm2d", (2, 3, 4, 4), num_features=5, affine=False,
       track_running_stats=False)
    bn("batchnorm2d_no_tensors_negative_features", "BatchNorm2d", (2, 3, 4, 4), num_features=-1, affine=False,
       track_running_stats=False)
    bn("batchnorm2d_c1", "BatchNorm2d", (2, 1, 3, 3), num_features=1)
    bn("batchnorm3d", "BatchNorm3d", (2, 2, 3, 4, 3), num_features=2)
    bn("batchnorm3d_affine_false_eps", "BatchNorm3d", (1, 3, 2, 3, 4), num_features=3, affine=False, eps=1e-2)
    bn("batchnorm3d_no_running_stats", "BatchNorm3d", (2, 2, 2, 3, 2), num_features=2, track_running_stats=False)
    bn("lazybatchnorm1d_2d_input", "LazyBatchNorm1d", (6, 5))
    bn("lazybatchnorm1d_3d_input", "LazyBatchNorm1d", (2, 3, 4), eps=1e-4)
    bn("lazybatchnorm2d", "LazyBatchNorm2d", (2, 4, 3, 5))
    bn("lazybatchnorm2d_no_running_stats", "LazyBatchNorm2d", (2, 3, 3, 3), track_running_stats=False)
    bn("lazybatchnorm2d_no_tensors", "LazyBatchNorm2d", (2, 3, 3, 3), affine=False, track_running_stats=False)
    bn("lazybatchnorm2d_affine_false", "LazyBatchNorm2d", (2, 3, 3, 3), affine=False)
    bn("lazybatchnorm3d", "LazyBatchNorm3d", (1, 2, 3, 3, 4), momentum=None)
    return c


def activation_cases() -> list[Case]:
    c = []
    x = (2, 3, 4, 5)

    def act(name, op, shape=x, scale=4.0, **kw):
        c.append(single(name, op, shape, layer="act", scale=scale, **kw))

    act("relu6", "ReLU6")  # randn * 4: beyond 6 on both sides of every kink
    act("relu6_inplace", "ReLU6", inplace=True)
    act("relu_inplace_false", "ReLU", inplace=False)
    act("leakyrelu", "LeakyReLU")
    act("leakyrelu_slope0p2", "LeakyReLU", negative_slope=0.2)
    act("leakyrelu_slope_negative", "LeakyReLU", negative_slope=-0.5)
    act("leakyrelu_slope_above1", "LeakyReLU", negative_slope=1.5, inplace=True)
    act("leakyrelu_slope_int", "LeakyReLU", negative_slope=2)
    act("leakyrelu_slope_zero", "LeakyReLU", negative_slope=0.0)
    act("hardtanh", "Hardtanh")
    act("hardtanh_m0p5_2", "Hardtanh", min_val=-0.5, max_val=2.0)
    act("hardtanh_int_bounds", "Hardtanh", min_val=-2, max_val=3)
    act("hardtanh_positive_range", "Hardtanh", min_val=0.25, max_val=0.75, scale=1.0)
    act("hardtanh_deprecated_names", "Hardtanh", min_value=-0.25, max_value=5.5)
    act("sigmoid", "Sigmoid")
    act("sigmoid_wide", "Sigmoid", scale=40.0)
    act("tanh", "Tanh")
    act("tanh_wide", "Tanh", scale=20.0)
    act("silu", "SiLU")
    act("silu_wide", "SiLU", scale=40.0, inplace=True)
    act("hardswish", "Hardswish")
    act("hardswish_inplace", "Hardswish", inplace=True)
    act("gelu", "GELU")
    act("gelu_none", "GELU", approximate="none")
    act("gelu_tanh", "GELU", approximate="tanh")
    act("gelu_wide", "GELU", scale=20.0)
    act("gelu_tanh_wide", "GELU", scale=20.0, approximate="tanh")
    act("gelu_small", "GELU", scale=1e-3)
    act("gelu_1d_input", "GELU", shape=(17,))
    act("silu_5d_input", "SiLU", shape=(1, 2, 3, 2, 4))
    act("hardswish_batch0", "Hardswish", shape=(0, 3, 4))
    act("identity", "Identity")
    net_id = Model([("x", [2, 3, 4])], [Layer("act", "Identity", ["x", "54"], dict(unused="abc", scale=0.5))],
                   ["act"])
    c.append(Case("identity_ignored_args", net_id, {"x": (2, 3, 4)}))
    return c


def batch_norm_net_cases() -> list[Case]:
    c = []

    def net(name, inputs, layers, outputs, shapes=None, scale=1.0):
        model = Model([(n, list(d)) for n, d in inputs], [Layer(*l) for l in layers], outputs)
        c.append(Case(name, model, shapes or {n: tuple(d) for n, d in inputs}, scale))

    def conv(ci, co, k, **kw):
        return dict(in_channels=ci, out_channels=co, kernel_size=k, **kw)

    net("net_conv_bn_relu", [("x", (2, 3, 8, 8))], [
        ("conv", "Conv2d", ["x"], conv(3, 8, 3, padding=1, bias=False)),
        ("bn", "BatchNorm2d", ["conv"], dict(num_features=8)),
        ("relu", "ReLU", ["bn"], dict(inplace=True)),
    ], ["relu"])
    net("net_conv_bias_bn_relu6", [("x", (1, 3, 7, 7))], [
        ("conv", "Conv2d", ["x"], conv(3, 4, 3, stride=2)),
        ("bn", "BatchNorm2d", ["conv"], dict(num_features=4, eps=1e-3)),
        ("act", "ReLU6", ["bn"]),
    ], ["act"])
    net("net_resblock_bn", [("x", (2, 4, 6, 6))], [
        ("conv1", "Conv2d", ["x"], conv(4, 4, 3, padding=1, bias=False)),
        ("bn1", "BatchNorm2d", ["conv1"], dict(num_features=4)),
        ("relu1", "ReLU", ["bn1"]),
        ("conv2", "Conv2d", ["relu1"], conv(4, 4, 3, padding=1, bias=False)),
        ("bn2", "BatchNorm2d", ["conv2"], dict(num_features=4)),
        ("sum", "Add", ["bn2", "x"]),
        ("out", "ReLU", ["sum"]),
    ], ["out"])
    net("net_resblock_bn_downsample", [("x", (1, 4, 8, 8))], [
        ("layer.conv1", "Conv2d", ["x"], conv(4, 8, 3, stride=2, padding=1, bias=False)),
        ("layer.bn1", "BatchNorm2d", ["layer.conv1"], dict(num_features=8)),
        ("layer.relu", "ReLU", ["layer.bn1"]),
        ("layer.conv2", "Conv2d", ["layer.relu"], conv(8, 8, 3, padding=1, bias=False)),
        ("layer.bn2", "BatchNorm2d", ["layer.conv2"], dict(num_features=8)),
        ("layer.downsample.0", "Conv2d", ["x"], conv(4, 8, 1, stride=2, bias=False)),
        ("layer.downsample.1", "BatchNorm2d", ["layer.downsample.0"], dict(num_features=8)),
        ("layer.sum", "Add", ["layer.bn2", "layer.downsample.1"]),
        ("layer.out", "ReLU", ["layer.sum"]),
    ], ["layer.out"])
    net("net_inverted_residual", [("x", (1, 4, 6, 6))], [
        ("expand", "Conv2d", ["x"], conv(4, 12, 1, bias=False)),
        ("expand_bn", "BatchNorm2d", ["expand"], dict(num_features=12)),
        ("expand_act", "ReLU6", ["expand_bn"], dict(inplace=True)),
        ("dw", "Conv2d", ["expand_act"], conv(12, 12, 3, padding=1, groups=12, bias=False)),
        ("dw_bn", "BatchNorm2d", ["dw"], dict(num_features=12)),
        ("dw_act", "Hardswish", ["dw_bn"]),
        ("project", "Conv2d", ["dw_act"], conv(12, 4, 1, bias=False)),
        ("project_bn", "BatchNorm2d", ["project"], dict(num_features=4)),
        ("sum", "Add", ["project_bn", "x"]),
    ], ["sum"], scale=2.0)
    net("net_conv1d_bn_silu", [("wav", (2, 2, 16))], [
        ("conv", "Conv1d", ["wav"], conv(2, 4, 5, padding=2)),
        ("bn", "BatchNorm1d", ["conv"], dict(num_features=4)),
        ("act", "SiLU", ["bn"]),
        ("conv2", "Conv1d", ["act"], conv(4, 4, 3, dilation=2, padding="same", padding_mode="reflect")),
        ("bn2", "BatchNorm1d", ["conv2"], dict(num_features=4, affine=False)),
        ("act2", "GELU", ["bn2"], dict(approximate="tanh")),
    ], ["act2"])
    net("net_conv3d_bn_leaky", [("vol", (1, 2, 4, 5, 4))], [
        ("conv", "Conv3d", ["vol"], conv(2, 4, 3, padding=1, bias=False)),
        ("bn", "BatchNorm3d", ["conv"], dict(num_features=4)),
        ("act", "LeakyReLU", ["bn"], dict(negative_slope=0.1)),
    ], ["act"])
    net("net_lazy_conv_bn_gelu", [("x", (2, 3, 6, 6))], [
        ("conv", "LazyConv2d", ["x"], dict(out_channels=5, kernel_size=3, padding=1)),
        ("bn", "LazyBatchNorm2d", ["conv"]),
        ("act", "GELU", ["bn"]),
    ], ["act"])
    net("net_deconv_bn_hardtanh", [("x", (1, 4, 4, 4))], [
        ("up", "ConvTranspose2d", ["x"], dict(in_channels=4, out_channels=3, kernel_size=2, stride=2)),
        ("bn", "BatchNorm2d", ["up"], dict(num_features=3, momentum=0.01)),
        ("act", "Hardtanh", ["bn"], dict(min_val=-0.5, max_val=0.5)),
    ], ["act"])
    net("net_conv_batch_stats_tanh", [("x", (3, 3, 5, 5))], [
        ("conv", "Conv2d", ["x"], conv(3, 4, 3)),
        ("bn", "BatchNorm2d", ["conv"], dict(num_features=4, track_running_stats=False)),
        ("act", "Tanh", ["bn"]),
    ], ["act"])
    net("net_identity_sigmoid_gate", [("x", (1, 3, 5, 5))], [
        ("conv", "Conv2d", ["x"], conv(3, 3, 3, padding=1)),
        ("skip", "Identity", ["conv"]),
        ("bn", "BatchNorm2d", ["skip"], dict(num_features=3)),
        ("gate", "Sigmoid", ["bn"]),
        ("sum", "Add", ["gate", "skip"]),
    ], ["sum", "skip"])
    net("net_symbolic_bn", [("x", ("N", 3, "H", "W"))], [
        ("conv", "Conv2d", ["x"], conv(3, 4, 3, padding="same", bias=False)),
        ("bn", "BatchNorm2d", ["conv"], dict(num_features=4)),
        ("act", "SiLU", ["bn"]),
        ("bn2", "LazyBatchNorm2d", ["act"], dict(affine=False)),
    ], ["bn2"], shapes={"x": (2, 3, 6, 7)})
    return c


def tensor_cases() -> list[Case]:
    """Linear, Flatten, Concat, Softmax, LogSoftmax, Dropout*, Sub/Mul/Div and Hardsigmoid, one layer each."""
    c = []

    def one(name, op, shape, layer="y", scale=1.0, **kw):
        c.append(single(name, op, shape, layer=layer, scale=scale, **kw))

    def multi(name, op, shapes, scale=1.0, **kw):
        names = [chr(ord("a") + i) for i in range(len(shapes))]
        model = Model([(n, list(s)) for n, s in zip(names, shapes)], [Layer("y", op, names, kw)], ["y"])
        c.append(Case(name, model, dict(zip(names, map(tuple, shapes))), scale))

    one("linear", "Linear", (3, 5), in_features=5, out_features=4)
    one("linear_nobias", "Linear", (3, 5), in_features=5, out_features=4, bias=False)
    one("linear_1d_input", "Linear", (5,), in_features=5, out_features=3)
    one("linear_3d_input", "Linear", (2, 3, 5), in_features=5, out_features=4)
    one("linear_batch0", "Linear", (0, 5), in_features=5, out_features=4)
    one("linear_in0", "Linear", (2, 0), in_features=0, out_features=3)
    # SGEMM tile remainders on every side (rows 7, out 37, in 70).
    one("linear_tiles", "Linear", (7, 70), in_features=70, out_features=37)
    one("linear_tiles_nobias", "Linear", (13, 33), in_features=33, out_features=17, bias=False)
    one("lazylinear", "LazyLinear", (2, 4, 7), out_features=6)
    one("lazylinear_1d_input", "LazyLinear", (9,), out_features=2, bias=False)
    one("flatten", "Flatten", (2, 3, 4, 5))
    one("flatten_start0", "Flatten", (2, 3, 4), start_dim=0)
    one("flatten_middle", "Flatten", (2, 3, 4, 5), start_dim=1, end_dim=2)
    one("flatten_negative_dims", "Flatten", (2, 3, 4, 5), start_dim=-3, end_dim=-2)
    one("flatten_one_dim", "Flatten", (2, 3, 4), start_dim=2, end_dim=2)
    one("flatten_0d_input", "Flatten", (), start_dim=0)
    one("flatten_batch0", "Flatten", (0, 3, 4))
    multi("concat_dim1", "Concat", [(2, 3, 4), (2, 1, 4), (2, 5, 4)], dim=1)
    multi("concat_default_dim", "Concat", [(2, 3), (4, 3)])
    multi("concat_last_dim", "Concat", [(2, 3, 2, 2), (2, 3, 2, 5)], dim=-1)
    multi("concat_with_empty", "Concat", [(2, 0, 3), (2, 4, 3)], dim=1)
    multi("concat_single", "Concat", [(3, 4)], dim=0)
    one("softmax_dim1", "Softmax", (3, 10), dim=1)
    one("softmax_channels", "Softmax", (2, 4, 3, 5), dim=1)
    one("softmax_last_dim", "Softmax", (2, 4, 3, 5), dim=-1)
    one("softmax_dim0", "Softmax", (4, 3), dim=0)
    one("softmax_1d_input", "Softmax", (7,), dim=0)
    one("softmax_0d_input", "Softmax", (), dim=-1)
    one("softmax_wide", "Softmax", (3, 20), scale=30.0, dim=1)
    one("logsoftmax_dim1", "LogSoftmax", (3, 10), dim=1)
    one("logsoftmax_channels", "LogSoftmax", (2, 4, 3, 5), dim=1)
    one("logsoftmax_wide", "LogSoftmax", (2, 6, 7), scale=30.0, dim=-2)
    one("dropout", "Dropout", (2, 3, 4))
    one("dropout_p0", "Dropout", (2, 3), p=0.0)
    one("dropout_p1_inplace", "Dropout", (2, 3), p=1, inplace=True)
    one("dropout1d", "Dropout1d", (2, 3, 5), p=0.3)
    one("dropout2d", "Dropout2d", (2, 3, 4, 4), p=0.1)
    one("dropout3d", "Dropout3d", (1, 2, 3, 4, 4), p=0.9)
    multi("mul", "Mul", [(2, 3, 4), (2, 3, 4)])
    multi("mul_broadcast_channels", "Mul", [(2, 3, 4, 5), (3, 1, 1)])
    multi("mul_broadcast_both", "Mul", [(2, 1, 4), (3, 1)])
    multi("sub", "Sub", [(2, 3, 4), (2, 3, 4)])
    multi("sub_broadcast_first", "Sub", [(1, 4), (3, 2, 4)])
    multi("sub_broadcast_scalar_like", "Sub", [(2, 3), (1,)])
    multi("div", "Div", [(2, 3, 4), (2, 3, 4)])
    multi("div_broadcast_rows", "Div", [(3, 4, 5), (4, 1)])
    one("hardsigmoid", "Hardsigmoid", (2, 3, 4, 5), scale=4.0)
    one("hardsigmoid_inplace", "Hardsigmoid", (17,), scale=4.0, inplace=True)
    repeat = Model([("x", [2, 3, 4])], [Layer("y", "Concat", ["x", "x", "x"], dict(dim=2))], ["y"])
    c.append(Case("concat_repeat", repeat, {"x": (2, 3, 4)}))
    return c


def tensor_net_cases() -> list[Case]:
    c = []

    def net(name, inputs, layers, outputs, shapes=None, scale=1.0):
        model = Model([(n, list(d)) for n, d in inputs], [Layer(*l) for l in layers], outputs)
        c.append(Case(name, model, shapes or {n: tuple(d) for n, d in inputs}, scale))

    def conv(ci, co, k, **kw):
        return dict(in_channels=ci, out_channels=co, kernel_size=k, **kw)

    net("net_classifier", [("x", (2, 3, 6, 6))], [
        ("features.0", "Conv2d", ["x"], conv(3, 4, 3, stride=2, padding=1)),
        ("features.1", "ReLU", ["features.0"]),
        ("flatten", "Flatten", ["features.1"]),
        ("classifier.0", "Dropout", ["flatten"], dict(p=0.5)),
        ("classifier.1", "Linear", ["classifier.0"], dict(in_features=36, out_features=16)),
        ("classifier.2", "ReLU", ["classifier.1"], dict(inplace=True)),
        ("classifier.3", "Linear", ["classifier.2"], dict(in_features=16, out_features=5)),
        ("probs", "LogSoftmax", ["classifier.3"], dict(dim=1)),
    ], ["probs"])
    net("net_symbolic_classifier", [("x", ("N", 3, 5, 5))], [
        ("conv", "Conv2d", ["x"], conv(3, 2, 3)),
        ("flat", "Flatten", ["conv"]),
        ("fc", "LazyLinear", ["flat"], dict(out_features=4)),
        ("soft", "Softmax", ["fc"], dict(dim=-1)),
    ], ["soft"], shapes={"x": (3, 3, 5, 5)})
    net("net_concat_branches", [("x", (1, 3, 6, 6))], [
        ("left", "Conv2d", ["x"], conv(3, 2, 1)),
        ("right", "Conv2d", ["x"], conv(3, 3, 3, padding=1)),
        ("right_act", "ReLU", ["right"]),
        ("cat", "Concat", ["left", "right_act", "x"], dict(dim=1)),
        ("fuse", "Conv2d", ["cat"], conv(8, 4, 3, padding=1)),
    ], ["fuse"])
    net("net_gating", [("x", (2, 4, 5, 5))], [
        ("conv", "Conv2d", ["x"], conv(4, 4, 3, padding=1)),
        ("gate", "Hardsigmoid", ["conv"]),
        ("gated", "Mul", ["conv", "gate"]),
        ("diff", "Sub", ["gated", "x"]),
        ("scale", "Conv2d", ["x"], conv(4, 4, 1)),
        ("scale_act", "Sigmoid", ["scale"]),
        ("ratio", "Div", ["diff", "scale_act"]),
    ], ["ratio", "gate"])
    net("net_linear_sequence", [("seq", (2, 3, 8))], [
        ("conv", "Conv1d", ["seq"], conv(3, 6, 3, padding=1)),
        ("act", "GELU", ["conv"]),
        ("proj", "Linear", ["act"], dict(in_features=8, out_features=5)),
        ("norm", "Softmax", ["proj"], dict(dim=1)),
        ("flat", "Flatten", ["norm"], dict(start_dim=0)),
    ], ["flat"])
    return c


# ----------------------------------------------------------------------------- spatial layers
POOL_SHAPE = {1: (2, 3, 11), 2: (1, 3, 9, 10), 3: (1, 2, 6, 7, 5)}


def pool_cases() -> list[Case]:
    """MaxPool/AvgPool 1-3d: padding, ceil_mode (incl. the dropped last window), dilation,
    count_include_pad, divisor_override, asymmetric per-dim arguments, unbatched and empty batches."""
    c = []
    for nd in (1, 2, 3):
        S = POOL_SHAPE[nd]

        def add(op, suffix, shape=S, **kw):
            c.append(single(f"{op.lower()}_{suffix}", op, shape, layer="pool", **kw))

        mx, av = f"MaxPool{nd}d", f"AvgPool{nd}d"
        add(mx, "k2", kernel_size=2)
        add(mx, "k3_s2_p1", kernel_size=3, stride=2, padding=1)
        add(mx, "k3_s2_ceil", kernel_size=3, stride=2, ceil_mode=True)
        add(mx, "k2_s2_p1_ceil", kernel_size=2, stride=2, padding=1, ceil_mode=True)  # last window dropped (size 9)
        add(mx, "k3_d2", kernel_size=3, dilation=2)
        add(mx, "k3_s2_p2_d2_ceil", kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)
        add(mx, "k3_stride_none", kernel_size=3, stride=None, return_indices=False)
        add(mx, "unbatched", shape=S[1:], kernel_size=3, stride=2, padding=1)
        add(mx, "batch0", shape=(0,) + S[1:], kernel_size=2)
        add(av, "k2", kernel_size=2)
        add(av, "k3_s2_p1", kernel_size=3, stride=2, padding=1)
        add(av, "k3_s2_p1_exclude_pad", kernel_size=3, stride=2, padding=1, count_include_pad=False)
        add(av, "k3_s2_p1_ceil", kernel_size=3, stride=2, padding=1, ceil_mode=True)
        add(av, "k3_s2_p1_ceil_exclude_pad", kernel_size=3, stride=2, padding=1, ceil_mode=True,
            count_include_pad=False)
        add(av, "k2_s2_p1_ceil", kernel_size=2, stride=2, padding=1, ceil_mode=True)
        add(av, "k4_s3_ceil", kernel_size=4, stride=3, ceil_mode=True)  # window past the end, no padding
        add(av, "unbatched", shape=S[1:], kernel_size=2, stride=1, padding=1)
        add(av, "batch0", shape=(0,) + S[1:], kernel_size=2)
        if nd > 1:
            add(av, "k3_divisor5", kernel_size=3, divisor_override=5)
            add(av, "k3_p1_divisor_neg2_ceil", kernel_size=3, stride=2, padding=1, divisor_override=-2, ceil_mode=True)
            add(av, "divisor_none", kernel_size=2, divisor_override=None)
            add(mx, "asym", kernel_size=per_dim(nd, 2, 3, 2), stride=per_dim(nd, 1, 2, 3),
                padding=per_dim(nd, 1, 0, 1), dilation=per_dim(nd, 2, 1, 1))
            add(mx, "asym_ceil", kernel_size=per_dim(nd, 3, 2, 3), stride=per_dim(nd, 2, 3, 2),
                padding=per_dim(nd, 1, 1, 0), ceil_mode=True)
            add(av, "asym", kernel_size=per_dim(nd, 2, 3, 3), stride=per_dim(nd, 3, 1, 2),
                padding=per_dim(nd, 1, 1, 0))
            add(av, "asym_ceil_exclude_pad", kernel_size=per_dim(nd, 3, 2, 3), stride=per_dim(nd, 2, 2, 1),
                padding=per_dim(nd, 1, 1, 1), ceil_mode=True, count_include_pad=False)
            add(mx, "kernel_1tuple", kernel_size=(3,), stride=(2,), padding=(1,))
        else:
            add(mx, "tuple1_args", kernel_size=(3,), stride=(2,), padding=(1,), dilation=(2,))
            add(av, "tuple1_args", kernel_size=(3,), stride=(2,), padding=(1,))
    # ResNet's stem pooling on a realistic plane.
    c.append(single("maxpool2d_resnet_stem", "MaxPool2d", (1, 4, 16, 16), layer="pool", kernel_size=3, stride=2,
                    padding=1))
    return c


def adaptive_pool_cases() -> list[Case]:
    c = []
    for nd in (1, 2, 3):
        S = POOL_SHAPE[nd]
        for kind in ("Avg", "Max"):
            op = f"Adaptive{kind}Pool{nd}d"

            def add(suffix, shape=S, **kw):
                c.append(single(f"{op.lower()}_{suffix}", op, shape, layer="pool", **kw))

            add("out1", output_size=1)
            add("out3", output_size=3)  # uneven, overlapping cells
            add("out_larger", output_size=per_dim(nd, 13, 11, 8) if nd > 1 else 13)
            add("unbatched", shape=S[1:], output_size=2)
            add("batch0", shape=(0,) + S[1:], output_size=2)
            if nd > 1:
                add("none_first", output_size=(None,) + per_dim(nd - 1, 2, 3))
                add("asym", output_size=per_dim(nd, 4, 1, 3))
            if kind == "Max":
                add("out0", output_size=0)
    # AdaptiveAvgPool with an all-ones output is a mean over the trailing dims, on any rank.
    c.append(single("adaptiveavgpool2d_out1_rank5", "AdaptiveAvgPool2d", (2, 1, 3, 5, 4), layer="pool",
                    output_size=1))
    c.append(single("adaptiveavgpool3d_out1_rank3", "AdaptiveAvgPool3d", (2, 3, 4), layer="pool",
                    output_size=1))
    c.append(single("adaptiveavgpool2d_global_7x7", "AdaptiveAvgPool2d", (2, 8, 7, 7), layer="pool",
                    output_size=(1, 1)))
    return c


PAD_SHAPE = {1: (2, 3, 5), 2: (1, 2, 4, 5), 3: (1, 2, 3, 4, 5)}


def pad_cases() -> list[Case]:
    c = []
    for nd in (1, 2, 3):
        S = PAD_SHAPE[nd]

        def add(op, suffix, shape=S, **kw):
            c.append(single(f"{op.lower()}_{suffix}", op, shape, layer="pad", **kw))

        asym = (1, 2, 0, 3, 2, 1)[:2 * nd]
        crop = (-1, 2, 1, -2, 0, -1)[:2 * nd]
        for family in ("Zero", "Constant", "Reflection", "Replication", "Circular"):
            op = f"{family}Pad{nd}d"
            extra = dict(value=0.5) if family == "Constant" else {}
            add(op, "p1", padding=1, **extra)
            add(op, "asym", padding=asym, **extra)
            add(op, "crop", padding=crop, **extra)
            add(op, "unbatched", shape=S[1:], padding=asym, **extra)
            add(op, "batch0", shape=(0,) + S[1:], padding=1, **extra)
        # Each mode at its limit: reflect < size, circular <= size, replicate/constant unlimited.
        small = (1, 2) + (3,) * nd
        add(f"ReflectionPad{nd}d", "max", shape=small, padding=2)
        add(f"CircularPad{nd}d", "max", shape=small, padding=3)
        add(f"ReplicationPad{nd}d", "large", shape=small, padding=5)
        add(f"ConstantPad{nd}d", "large_negative_value", shape=small, padding=4, value=-2)
        add(f"ZeroPad{nd}d", "crop_to_empty", shape=small, padding=(-1, -2) + (0,) * (2 * nd - 2))
    # F.pad's tuple decides how many dims are padded, whatever the layer's name.
    c.append(single("zeropad2d_one_dim_tuple", "ZeroPad2d", (1, 2, 4, 5), layer="pad", padding=(1, 2)))
    c.append(single("zeropad1d_two_dim_tuple", "ZeroPad1d", (1, 2, 4, 5), layer="pad", padding=(1, 1, 2, 0)))
    c.append(single("constantpad1d_rank5_input", "ConstantPad1d", (1, 2, 2, 3, 4), layer="pad", padding=(2, 1),
                    value=3))
    c.append(single("constantpad3d_all_dims_rank3", "ConstantPad3d", (2, 3, 4), layer="pad",
                    padding=(1, 0, 0, 1, 1, 1), value=-1.5))
    c.append(single("reflectionpad1d_two_dim_tuple", "ReflectionPad1d", (2, 4, 5), layer="pad", padding=(1, 1, 2, 3)))
    c.append(single("circularpad1d_crop_then_wrap", "CircularPad1d", (1, 2, 4), layer="pad", padding=(-1, 3)))
    c.append(single("reflectionpad1d_crop_and_reflect", "ReflectionPad1d", (1, 2, 4), layer="pad", padding=(-1, 3)))
    c.append(single("replicationpad1d_crop_past_edge", "ReplicationPad1d", (1, 2, 4), layer="pad", padding=(-3, 5)))
    return c


UPSAMPLE_SHAPE = {1: (2, 3, 5), 2: (1, 2, 4, 5), 3: (1, 2, 3, 4, 3)}


def upsample_cases() -> list[Case]:
    c = []
    linear = {1: "linear", 2: "bilinear", 3: "trilinear"}
    for nd in (1, 2, 3):
        S = UPSAMPLE_SHAPE[nd]

        def add(suffix, shape=S, **kw):
            c.append(single(f"upsample{nd}d_{suffix}", "Upsample", shape, layer="up", **kw))

        lin = linear[nd]
        add("nearest_sf2", scale_factor=2)
        add("nearest_sf1p7", scale_factor=1.7)
        add("nearest_sf0p5", scale_factor=0.5)
        add("nearest_size", size=per_dim(nd, 7, 13, 5) if nd > 1 else 13)
        add("nearest_size_int", size=6)
        add("nearest_sf_tuple", scale_factor=per_dim(nd, 2.5, 1.0, 0.7) if nd > 1 else (2.5,))
        add("nearest_exact_sf1p7", scale_factor=1.7, mode="nearest-exact")
        add("nearest_exact_size", size=per_dim(nd, 3, 7, 4) if nd > 1 else 3, mode="nearest-exact")
        add(f"{lin}_sf2", scale_factor=2, mode=lin)
        add(f"{lin}_sf2_align", scale_factor=2, mode=lin, align_corners=True)
        add(f"{lin}_sf1p5_align_false", scale_factor=1.5, mode=lin, align_corners=False)
        add(f"{lin}_sf0p6", scale_factor=0.6, mode=lin)
        add(f"{lin}_size", size=per_dim(nd, 5, 9, 2) if nd > 1 else 9, mode=lin)
        add(f"{lin}_size_align", size=per_dim(nd, 5, 9, 2) if nd > 1 else 9, mode=lin, align_corners=True)
        add(f"{lin}_size1", size=1, mode=lin)
        add(f"{lin}_size1_align", size=1, mode=lin, align_corners=True)
        add(f"{lin}_same_size_sf1p1", scale_factor=1.1, mode=lin)  # out == in: a copy in PyTorch
        add(f"{lin}_batch0", shape=(0,) + S[1:], scale_factor=2, mode=lin)
        if nd > 1:
            add(f"{lin}_sf_tuple", scale_factor=per_dim(nd, 1.5, 2.25, 0.5), mode=lin)
            add(f"{lin}_sf_tuple_align", scale_factor=per_dim(nd, 3.0, 0.5, 2.0), mode=lin, align_corners=True)
    c.append(single("upsample2d_nearest_sf1p2_same_size", "Upsample", (1, 2, 3, 3), layer="up", scale_factor=1.2))
    c.append(single("upsample2d_nearest_sf2p2_double_size", "Upsample", (1, 2, 3, 4), layer="up", scale_factor=2.2))
    c.append(single("upsample2d_nearest_sf0", "Upsample", (1, 2, 3, 4), layer="up", size=(5, 6), scale_factor=0))
    c.append(single("upsample2d_recompute_false", "Upsample", (1, 2, 3, 4), layer="up", scale_factor=1.5,
                    mode="bilinear", recompute_scale_factor=False))
    return c


def spatial_net_cases() -> list[Case]:
    c = []

    def net(name, inputs, layers, outputs, shapes=None):
        model = Model([(n, list(d)) for n, d in inputs], [Layer(*l) for l in layers], outputs)
        c.append(Case(name, model, shapes or {n: tuple(d) for n, d in inputs}))

    def conv(ci, co, k, **kw):
        return dict(in_channels=ci, out_channels=co, kernel_size=k, **kw)

    net("net_resnet_stem_gap", [("x", (2, 3, 32, 32))], [
        ("conv1", "Conv2d", ["x"], conv(3, 8, 7, stride=2, padding=3, bias=False)),
        ("bn1", "BatchNorm2d", ["conv1"], dict(num_features=8)),
        ("relu", "ReLU", ["bn1"]),
        ("maxpool", "MaxPool2d", ["relu"], dict(kernel_size=3, stride=2, padding=1)),
        ("conv2", "Conv2d", ["maxpool"], conv(8, 8, 3, padding=1)),
        ("sum", "Add", ["conv2", "maxpool"]),
        ("avgpool", "AdaptiveAvgPool2d", ["sum"], dict(output_size=(1, 1))),
    ], ["avgpool"])
    net("net_unet_up", [("x", (1, 3, 12, 10))], [
        ("enc", "Conv2d", ["x"], conv(3, 4, 3, padding=1)),
        ("enc_act", "ReLU", ["enc"]),
        ("down", "MaxPool2d", ["enc_act"], dict(kernel_size=2)),
        ("mid", "Conv2d", ["down"], conv(4, 4, 3, padding=1)),
        ("up", "Upsample", ["mid"], dict(scale_factor=2, mode="bilinear", align_corners=True)),
        ("skip", "Add", ["up", "enc_act"]),
        ("head", "Conv2d", ["skip"], conv(4, 1, 1)),
    ], ["head"])
    net("net_reflectpad_conv_avgpool", [("x", (1, 2, 9, 9))], [
        ("pad", "ReflectionPad2d", ["x"], dict(padding=1)),
        ("conv", "Conv2d", ["pad"], conv(2, 3, 3)),
        ("pool", "AvgPool2d", ["conv"], dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                              count_include_pad=False)),
        ("up", "Upsample", ["pool"], dict(size=(9, 9), mode="nearest")),
    ], ["up", "pool"])
    net("net_symbolic_pool_pad", [("x", ("N", 2, "H", "W"))], [
        ("pad", "ZeroPad2d", ["x"], dict(padding=(1, 0, 2, 1))),
        ("pool", "MaxPool2d", ["pad"], dict(kernel_size=2, ceil_mode=True)),
        ("up", "Upsample", ["pool"], dict(scale_factor=1.5, mode="nearest")),
        ("gap", "AdaptiveMaxPool2d", ["up"], dict(output_size=(None, 1))),
    ], ["gap"], shapes={"x": (2, 2, 7, 8)})
    net("net_tcn_pool1d", [("x", (2, 3, 20))], [
        ("pad", "ConstantPad1d", ["x"], dict(padding=(2, 0), value=0.0)),
        ("conv", "Conv1d", ["pad"], conv(3, 4, 3, dilation=1)),
        ("pool", "MaxPool1d", ["conv"], dict(kernel_size=2, stride=2)),
        ("up", "Upsample", ["pool"], dict(scale_factor=2, mode="linear")),
        ("gap", "AdaptiveAvgPool1d", ["up"], dict(output_size=1)),
    ], ["gap", "up"])
    net("net_conv3d_pool_up", [("x", (1, 2, 4, 6, 6))], [
        ("conv", "Conv3d", ["x"], conv(2, 3, 3, padding=1)),
        ("pool", "AvgPool3d", ["conv"], dict(kernel_size=2)),
        ("up", "Upsample", ["pool"], dict(scale_factor=2, mode="trilinear")),
        ("pad", "ReplicationPad3d", ["up"], dict(padding=(0, 1, 1, 0, 0, 1))),
    ], ["pad"])
    return c


def spatial_error_cases() -> list[tuple[str, Model]]:
    out = []

    def e(name, op, shape, layer="pool", **kw):
        out.append((name, Model([("x", list(shape))], [Layer(layer, op, ["x"], kw)], [layer])))

    # --- MaxPool1d (max_pool1d's own checks)
    x1, x2, x3 = (1, 2, 5), (1, 2, 5, 5), (1, 2, 5, 5, 5)
    e("maxpool1d_rank1_input", "MaxPool1d", (5,), kernel_size=2)
    e("maxpool1d_rank4_input", "MaxPool1d", (1, 1, 1, 5), kernel_size=2)
    e("maxpool1d_empty_channels", "MaxPool1d", (1, 0, 5), kernel_size=2)
    e("maxpool1d_unbatched_empty_length", "MaxPool1d", (2, 0), kernel_size=2)
    e("maxpool1d_kernel_zero", "MaxPool1d", x1, kernel_size=0)
    e("maxpool1d_stride_zero", "MaxPool1d", x1, kernel_size=2, stride=0)
    e("maxpool1d_negative_padding", "MaxPool1d", x1, kernel_size=3, padding=-1)
    e("maxpool1d_padding_over_half", "MaxPool1d", x1, kernel_size=3, padding=2)
    e("maxpool1d_dilation_zero", "MaxPool1d", x1, kernel_size=3, dilation=0)
    e("maxpool1d_output_empty", "MaxPool1d", x1, kernel_size=7)
    e("maxpool1d_output_negative_batch0", "MaxPool1d", (0, 2, 5), kernel_size=3, dilation=4)
    e("maxpool1d_kernel_two_values", "MaxPool1d", x1, kernel_size=(2, 2))
    e("maxpool1d_stride_two_values", "MaxPool1d", x1, kernel_size=2, stride=(1, 1))
    e("maxpool1d_padding_two_values", "MaxPool1d", x1, kernel_size=2, padding=(1, 1))
    e("maxpool1d_dilation_two_values", "MaxPool1d", x1, kernel_size=2, dilation=(1, 1))
    # --- AvgPool1d (avg_pool1d, then avg_pool2d on a unit height)
    e("avgpool1d_rank4_input", "AvgPool1d", (1, 1, 1, 5), kernel_size=2)
    e("avgpool1d_kernel_zero", "AvgPool1d", x1, kernel_size=0)
    e("avgpool1d_kernel_zero_stride1", "AvgPool1d", x1, kernel_size=0, stride=1)
    e("avgpool1d_negative_stride", "AvgPool1d", x1, kernel_size=2, stride=-1)
    e("avgpool1d_negative_padding", "AvgPool1d", x1, kernel_size=3, padding=-1)
    e("avgpool1d_padding_over_half", "AvgPool1d", x1, kernel_size=3, padding=2)
    e("avgpool1d_output_empty", "AvgPool1d", x1, kernel_size=7)
    e("avgpool1d_empty_length", "AvgPool1d", (1, 2, 0), kernel_size=1)
    e("avgpool1d_kernel_two_values", "AvgPool1d", x1, kernel_size=(2, 2))
    e("avgpool1d_padding_two_values", "AvgPool1d", x1, kernel_size=2, padding=(0, 0))
    # --- MaxPool2d / AvgPool2d
    e("maxpool2d_rank2_input", "MaxPool2d", (5, 5), kernel_size=2)
    e("maxpool2d_rank5_input", "MaxPool2d", (1, 1, 2, 5, 5), kernel_size=2)
    e("maxpool2d_kernel_zero", "MaxPool2d", x2, kernel_size=0)
    e("maxpool2d_kernel_zero_stride1", "MaxPool2d", x2, kernel_size=(0, 3), stride=1)
    e("maxpool2d_negative_kernel", "MaxPool2d", x2, kernel_size=(1, -2))
    e("maxpool2d_negative_stride", "MaxPool2d", x2, kernel_size=2, stride=(1, -1))
    e("maxpool2d_negative_padding", "MaxPool2d", x2, kernel_size=3, padding=-1)
    e("maxpool2d_padding_over_half_width", "MaxPool2d", x2, kernel_size=3, padding=(1, 2))
    e("maxpool2d_dilation_zero", "MaxPool2d", x2, kernel_size=3, dilation=(2, 0))
    e("maxpool2d_dilated_padding_over_half_kernel", "MaxPool2d", (1, 2, 9, 9), kernel_size=3, padding=2, dilation=2)
    e("maxpool2d_empty_channels", "MaxPool2d", (1, 0, 5, 5), kernel_size=2)
    e("maxpool2d_unbatched_empty_channels", "MaxPool2d", (0, 5, 5), kernel_size=2)
    e("maxpool2d_output_empty", "MaxPool2d", x2, kernel_size=(2, 7))
    e("maxpool2d_output_empty_batch0", "MaxPool2d", (0, 2, 5, 5), kernel_size=7)
    e("maxpool2d_kernel_three_values", "MaxPool2d", x2, kernel_size=(2, 2, 2))
    e("maxpool2d_stride_three_values", "MaxPool2d", x2, kernel_size=2, stride=(1, 1, 1))
    e("maxpool2d_padding_three_values", "MaxPool2d", x2, kernel_size=2, padding=(0, 0, 0))
    e("maxpool2d_dilation_three_values", "MaxPool2d", x2, kernel_size=2, dilation=(1, 1, 1))
    e("avgpool2d_divisor_zero", "AvgPool2d", x2, kernel_size=2, divisor_override=0)
    e("avgpool2d_divisor_zero_rank2", "AvgPool2d", (5, 5), kernel_size=2, divisor_override=0)
    e("avgpool2d_rank2_input", "AvgPool2d", (5, 5), kernel_size=2)
    e("avgpool2d_rank1_input", "AvgPool2d", (5,), kernel_size=2)
    e("avgpool2d_rank5_input", "AvgPool2d", (1, 1, 2, 5, 5), kernel_size=2)
    e("avgpool2d_kernel_zero_stride1", "AvgPool2d", x2, kernel_size=(3, 0), stride=1)
    e("avgpool2d_negative_stride", "AvgPool2d", x2, kernel_size=2, stride=(-1, 1))
    e("avgpool2d_padding_over_half", "AvgPool2d", x2, kernel_size=3, padding=2)
    e("avgpool2d_empty_height", "AvgPool2d", (1, 2, 0, 5), kernel_size=1)
    e("avgpool2d_output_empty", "AvgPool2d", x2, kernel_size=6, padding=0)
    e("avgpool2d_kernel_three_values", "AvgPool2d", x2, kernel_size=(2, 2, 2))
    e("avgpool2d_stride_three_values", "AvgPool2d", x2, kernel_size=2, stride=(1, 1, 1))
    e("avgpool2d_padding_three_values", "AvgPool2d", x2, kernel_size=2, padding=(0, 0, 0))
    # --- MaxPool3d / AvgPool3d
    e("maxpool3d_rank3_input", "MaxPool3d", (5, 5, 5), kernel_size=2)
    e("maxpool3d_kernel_zero_stride1", "MaxPool3d", x3, kernel_size=(0, 3, 3), stride=1)
    e("maxpool3d_negative_stride", "MaxPool3d", x3, kernel_size=2, stride=(1, 1, -1))
    e("maxpool3d_dilation_zero", "MaxPool3d", x3, kernel_size=2, dilation=0)
    e("maxpool3d_padding_over_half", "MaxPool3d", x3, kernel_size=3, padding=2)
    e("maxpool3d_dilated_padding_over_half_kernel", "MaxPool3d", (1, 2, 9, 9, 9), kernel_size=3, padding=2,
      dilation=2)
    e("maxpool3d_empty_depth", "MaxPool3d", (1, 2, 0, 5, 5), kernel_size=1)
    e("maxpool3d_unbatched_empty_channels", "MaxPool3d", (0, 5, 5, 5), kernel_size=2)
    e("maxpool3d_output_empty", "MaxPool3d", x3, kernel_size=(1, 1, 7))
    e("maxpool3d_kernel_two_values", "MaxPool3d", x3, kernel_size=(2, 2))
    e("maxpool3d_stride_two_values", "MaxPool3d", x3, kernel_size=2, stride=(1, 1))
    e("maxpool3d_padding_two_values", "MaxPool3d", x3, kernel_size=2, padding=(0, 0))
    e("maxpool3d_dilation_two_values", "MaxPool3d", x3, kernel_size=2, dilation=(1, 1))
    e("avgpool3d_rank3_input_divisor_zero", "AvgPool3d", (5, 5, 5), kernel_size=2, divisor_override=0)
    e("avgpool3d_divisor_zero", "AvgPool3d", x3, kernel_size=2, divisor_override=0)
    e("avgpool3d_kernel_zero_divisor_zero", "AvgPool3d", x3, kernel_size=0, divisor_override=0)
    e("avgpool3d_kernel_zero_stride1", "AvgPool3d", x3, kernel_size=(3, 3, 0), stride=1)
    e("avgpool3d_negative_padding", "AvgPool3d", x3, kernel_size=3, padding=(0, -1, 0))
    e("avgpool3d_input_smaller_than_kernel", "AvgPool3d", x3, kernel_size=7, padding=3)
    e("avgpool3d_padding_over_half", "AvgPool3d", x3, kernel_size=(3, 3, 1), padding=(1, 1, 1), stride=1)
    e("avgpool3d_empty_channels", "AvgPool3d", (1, 0, 5, 5, 5), kernel_size=2)
    e("avgpool3d_kernel_two_values", "AvgPool3d", x3, kernel_size=(2, 2))
    e("avgpool3d_stride_two_values", "AvgPool3d", x3, kernel_size=2, stride=(1, 1))
    e("avgpool3d_padding_two_values", "AvgPool3d", x3, kernel_size=2, padding=(0, 0))
    # --- adaptive pooling
    e("adaptiveavgpool1d_rank1_input", "AdaptiveAvgPool1d", (5,), output_size=2)
    e("adaptiveavgpool1d_negative_output", "AdaptiveAvgPool1d", x1, output_size=-1)
    e("adaptiveavgpool1d_empty_length", "AdaptiveAvgPool1d", (1, 2, 0), output_size=2)
    e("adaptiveavgpool1d_two_values", "AdaptiveAvgPool1d", x1, output_size=(2, 2))
    e("adaptiveavgpool1d_none", "AdaptiveAvgPool1d", x1, output_size=None)
    e("adaptiveavgpool2d_negative_output", "AdaptiveAvgPool2d", x2, output_size=(2, -3))
    e("adaptiveavgpool2d_rank2_input", "AdaptiveAvgPool2d", (5, 5), output_size=2)
    e("adaptiveavgpool2d_rank5_input", "AdaptiveAvgPool2d", (1, 1, 2, 5, 5), output_size=2)
    e("adaptiveavgpool2d_out1_rank1_input", "AdaptiveAvgPool2d", (5,), output_size=1)
    e("adaptiveavgpool2d_empty_height", "AdaptiveAvgPool2d", (1, 2, 0, 5), output_size=2)
    e("adaptiveavgpool2d_none_rank2_input", "AdaptiveAvgPool2d", (5, 5), output_size=(None, 2))
    e("adaptiveavgpool2d_three_values", "AdaptiveAvgPool2d", x2, output_size=(2, 2, 2))
    e("adaptiveavgpool2d_one_value_tuple", "AdaptiveAvgPool2d", x2, output_size=(2,))
    e("adaptiveavgpool3d_negative_output", "AdaptiveAvgPool3d", x3, output_size=-1)
    e("adaptiveavgpool3d_rank3_input", "AdaptiveAvgPool3d", (5, 5, 5), output_size=2)
    e("adaptiveavgpool3d_empty_channels", "AdaptiveAvgPool3d", (1, 0, 5, 5, 5), output_size=2)
    e("adaptiveavgpool3d_out1_rank2_input", "AdaptiveAvgPool3d", (5, 5), output_size=1)
    e("adaptiveavgpool3d_two_values", "AdaptiveAvgPool3d", x3, output_size=(2, 2))
    e("adaptivemaxpool1d_rank4_input", "AdaptiveMaxPool1d", (1, 1, 1, 5), output_size=2)
    e("adaptivemaxpool1d_empty_channels", "AdaptiveMaxPool1d", (1, 0, 5), output_size=2)
    e("adaptivemaxpool1d_negative_output", "AdaptiveMaxPool1d", (2, 5), output_size=-1)
    e("adaptivemaxpool1d_two_values", "AdaptiveMaxPool1d", x1, output_size=(2, 2))
    e("adaptivemaxpool2d_rank2_input", "AdaptiveMaxPool2d", (5, 5), output_size=2)
    e("adaptivemaxpool2d_empty_height", "AdaptiveMaxPool2d", (1, 2, 0, 5), output_size=2)
    e("adaptivemaxpool2d_negative_output", "AdaptiveMaxPool2d", x2, output_size=(2, -1))
    e("adaptivemaxpool2d_three_values", "AdaptiveMaxPool2d", x2, output_size=(2, 2, 2))
    e("adaptivemaxpool3d_rank3_input", "AdaptiveMaxPool3d", (5, 5, 5), output_size=2)
    e("adaptivemaxpool3d_empty_channels", "AdaptiveMaxPool3d", (1, 0, 5, 5, 5), output_size=2)
    e("adaptivemaxpool3d_negative_output", "AdaptiveMaxPool3d", x3, output_size=-2)
    e("adaptivemaxpool3d_one_value_tuple", "AdaptiveMaxPool3d", x3, output_size=(2,))
    # --- padding
    p1, p2, p3 = (1, 2, 4), (1, 2, 3, 4), (1, 2, 3, 4, 4)
    e("zeropad2d_odd_tuple", "ZeroPad2d", p2, layer="pad", padding=(1, 1, 1))
    e("zeropad3d_pads_more_dims_than_input", "ZeroPad3d", (3, 4), layer="pad", padding=1)
    e("zeropad1d_crop_past_empty", "ZeroPad1d", p1, layer="pad", padding=-3)
    e("constantpad2d_crop_past_empty_one_side", "ConstantPad2d", p2, layer="pad", padding=(-5, 3, 0, 0), value=1.0)
    e("reflectionpad1d_padding_equal_to_size", "ReflectionPad1d", p1, layer="pad", padding=4)
    e("reflectionpad1d_rank1_input", "ReflectionPad1d", (4,), layer="pad", padding=1)
    e("reflectionpad1d_rank4_input", "ReflectionPad1d", p2, layer="pad", padding=1)
    e("reflectionpad1d_empty_channels", "ReflectionPad1d", (1, 0, 4), layer="pad", padding=1)
    e("reflectionpad1d_unbatched_empty_channels", "ReflectionPad1d", (0, 4), layer="pad", padding=1)
    e("reflectionpad1d_output_empty", "ReflectionPad1d", p1, layer="pad", padding=-2)
    e("reflectionpad2d_height_padding_too_large", "ReflectionPad2d", p2, layer="pad", padding=(1, 1, 3, 3))
    e("reflectionpad2d_width_checked_first", "ReflectionPad2d", p2, layer="pad", padding=(4, 4, 3, 3))
    e("reflectionpad2d_output_empty", "ReflectionPad2d", p2, layer="pad", padding=(0, 0, -2, -1))
    e("reflectionpad2d_one_dim_tuple_rank4", "ReflectionPad2d", p2, layer="pad", padding=(1, 1))
    e("reflectionpad3d_padding_too_large", "ReflectionPad3d", p3, layer="pad", padding=(0, 0, 0, 0, 3, 0))
    e("reflectionpad3d_output_empty", "ReflectionPad3d", p3, layer="pad", padding=-2)
    e("reflectionpad3d_rank3_input", "ReflectionPad3d", (3, 4, 4), layer="pad", padding=1)
    e("replicationpad1d_output_empty", "ReplicationPad1d", p1, layer="pad", padding=(-3, -1))
    e("replicationpad2d_rank2_input", "ReplicationPad2d", (3, 4), layer="pad", padding=1)
    e("replicationpad2d_empty_height", "ReplicationPad2d", (1, 2, 0, 4), layer="pad", padding=1)
    e("replicationpad3d_output_empty", "ReplicationPad3d", p3, layer="pad", padding=(0, 0, -2, -2, 0, 0))
    e("circularpad1d_rank1_input", "CircularPad1d", (4,), layer="pad", padding=1)
    e("circularpad2d_rank5_input", "CircularPad2d", p3, layer="pad", padding=1)
    e("circularpad1d_padding_larger_than_size", "CircularPad1d", p1, layer="pad", padding=5)
    e("circularpad2d_empty_height", "CircularPad2d", (1, 2, 0, 4), layer="pad", padding=1)
    e("circularpad2d_crop_to_negative", "CircularPad2d", p2, layer="pad", padding=(1, 1, -2, -2))
    e("circularpad3d_padding_larger_than_size", "CircularPad3d", p3, layer="pad", padding=(0, 0, 0, 0, 4, 0))
    e("circularpad1d_odd_tuple", "CircularPad1d", p1, layer="pad", padding=(1, 2, 3))
    # --- Upsample
    u1, u2, u3 = (1, 2, 5), (1, 2, 5, 5), (1, 2, 3, 4, 5)
    e("upsample_nearest_rank2_input", "Upsample", (2, 5), layer="up", scale_factor=2)
    e("upsample_nearest_rank6_input", "Upsample", (1, 2, 2, 2, 2, 2), layer="up", scale_factor=2)
    e("upsample_linear_rank4_input", "Upsample", u2, layer="up", scale_factor=2, mode="linear")
    e("upsample_bilinear_rank3_input", "Upsample", u1, layer="up", scale_factor=2, mode="bilinear")
    e("upsample_bilinear_rank5_input", "Upsample", u3, layer="up", scale_factor=2, mode="bilinear")
    e("upsample_trilinear_rank4_input", "Upsample", u2, layer="up", size=3, mode="trilinear")
    e("upsample_bilinear_rank6_input", "Upsample", (1, 1, 2, 2, 2, 2), layer="up", scale_factor=2, mode="bilinear")
    e("upsample_nearest_align_corners", "Upsample", u2, layer="up", scale_factor=2, align_corners=True)
    e("upsample_nearest_align_corners_false", "Upsample", u2, layer="up", scale_factor=2, align_corners=False)
    e("upsample_size_and_scale", "Upsample", u2, layer="up", size=4, scale_factor=2)
    e("upsample_neither_size_nor_scale", "Upsample", u2, layer="up")
    e("upsample_scale_zero", "Upsample", u2, layer="up", scale_factor=0.0)
    e("upsample_nearest_size_three_values", "Upsample", u2, layer="up", size=(4, 4, 4))
    e("upsample_nearest_scale_three_values", "Upsample", u2, layer="up", scale_factor=(2.0, 2.0, 2.0))
    e("upsample_nearest_size_zero", "Upsample", u2, layer="up", size=0)
    e("upsample_nearest_size_negative", "Upsample", u2, layer="up", size=(4, -1))
    e("upsample_nearest_scale_to_empty", "Upsample", u2, layer="up", scale_factor=0.1)
    e("upsample_bilinear_negative_scale", "Upsample", u2, layer="up", scale_factor=-2, mode="bilinear")
    e("upsample_linear_size_zero", "Upsample", u1, layer="up", size=0, mode="linear")
    e("upsample_trilinear_empty_depth", "Upsample", (1, 2, 0, 4, 5), layer="up", scale_factor=2, mode="trilinear")
    e("upsample_nearest_empty_height", "Upsample", (1, 2, 0, 5), layer="up", scale_factor=2)
    e("upsample_bilinear_empty_channels", "Upsample", (1, 0, 5, 5), layer="up", scale_factor=2, mode="bilinear")
    e("upsample_nearest1d_empty_channels", "Upsample", (1, 0, 5), layer="up", scale_factor=2)
    e("upsample_nearest3d_empty_channels", "Upsample", (1, 0, 3, 4, 5), layer="up", size=2)
    e("upsample_recompute_with_size", "Upsample", u2, layer="up", size=4, recompute_scale_factor=True)
    return out


def all_cases() -> list[Case]:
    cases = []
    for nd in (1, 2, 3):
        cases += conv_cases(nd)
    for nd in (1, 2, 3):
        cases += convt_cases(nd)
    cases += lazy_cases() + unfold_fold_cases() + megengine_cases() + net_cases()
    cases += batch_norm_cases() + activation_cases() + batch_norm_net_cases()
    cases += tensor_cases() + tensor_net_cases()
    cases += pool_cases() + adaptive_pool_cases() + pad_cases() + upsample_cases() + spatial_net_cases()
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    return cases


# ----------------------------------------------------------------------------- generation
ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests" / "ConvRTTests" / "Fixtures"
HEADER = "Generated by Tools/gen_fixtures.py; DO NOT EDIT."


def case_seed(name: str) -> int:
    return zlib.crc32(name.encode())


def io_files(prefix: str, kind: str, names: list[str]) -> dict[str, str]:
    """`<prefix>.<kind>.npy`, or `<prefix>.<kind>.<name>.npy` per name when there are several."""
    if len(names) == 1:
        return {names[0]: f"{prefix}.{kind}.npy"}
    return {n: f"{prefix}.{kind}.{n}.npy" for n in names}


def make_inputs(shapes: dict[str, tuple], seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {n: torch.randn(shape, generator=g, dtype=torch.float32) for n, shape in shapes.items()}


def realize(model: Model, shapes: dict[str, tuple], seed: int, header: str, input_scale: float = 1.0,
            bn_init: str = "random"):
    """Writes the model text, parses it back, builds and runs it; returns everything to save.

    Eager layers initialise at construction (in file order) after `manual_seed(seed)`; lazy ones
    at the first (float32) forward, exactly as in PyTorch. BatchNorm tensors are then randomized
    (unless `bn_init == "default"`), so that no weight is the trivial 1/0/0/1.
    """
    text = model.text(header)
    parsed = parse(text)
    torch.manual_seed(seed)
    built = build(parsed)
    inputs = make_inputs(shapes, seed + 1)
    if input_scale != 1.0:
        inputs = {n: t * input_scale for n, t in inputs.items()}
    with torch.no_grad():
        run(parsed, built, inputs)  # materialises lazy parameters
    if bn_init == "random":
        randomize_batch_norms(built, seed + 2)
    outputs = run_float64(parsed, built, inputs)
    return text, export_weights(built), inputs, outputs


def randomize_batch_norms(built: dict[str, Built], seed: int) -> None:
    """Non-trivial BatchNorm tensors: weight ~ N(1, 0.5) (some negative), bias and running_mean
    ~ N(0, 0.5), running_var ~ U(0.25, 2), num_batches_tracked an arbitrary count."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for b in built.values():
            m = b.module
            if not isinstance(m, nn.modules.batchnorm._BatchNorm):
                continue
            c = m.num_features
            if m.affine:
                m.weight.copy_(1 + 0.5 * torch.randn(c, generator=g))
                m.bias.copy_(0.5 * torch.randn(c, generator=g))
            if m.track_running_stats:
                m.running_mean.copy_(0.5 * torch.randn(c, generator=g))
                m.running_var.copy_(0.25 + 1.75 * torch.rand(c, generator=g))
                m.num_batches_tracked.fill_(1000 + c)


def has_state(layer: Layer) -> bool:
    """Whether the layer has a state_dict (so the model needs a weights file)."""
    if layer.op in BN_OPS:
        return layer.kwargs.get("affine", True) or layer.kwargs.get("track_running_stats", True)
    return layer.op in CONV_OPS or layer.op in ("Linear", "LazyLinear")


def write_case(case: Case, outdir) -> dict:
    if any(has_state(layer) for layer in case.model.layers):
        case.model.weights = f"{case.name}.npz"
    text, weights, inputs, outputs = realize(case.model, case.shapes, case_seed(case.name),
                                             f"{HEADER}\ncase: {case.name}", case.input_scale, case.bn_init)
    (outdir / f"{case.name}.convnet").write_text(text)
    if weights:
        save_npz(outdir / f"{case.name}.npz", weights)
    in_files = io_files(case.name, "in", list(inputs))
    out_files = io_files(case.name, "out", list(outputs))
    for n, f in in_files.items():
        save_npy(outdir / f, inputs[n].numpy())
    for n, f in out_files.items():
        save_npy(outdir / f, outputs[n].numpy())
    max_abs = max((float(o.abs().max()) for o in outputs.values() if o.numel()), default=0.0)
    return {"case": case.name, "inputs": in_files, "outputs": out_files,
            "weights": case.model.weights, "max_abs_expected": max_abs}


def verify_case(entry: dict, outdir) -> float:
    """Recomputes a written case from its files alone (npz loaded strictly); returns max |diff|."""
    model = parse((outdir / f"{entry['case']}.convnet").read_text())
    assert model.weights == entry["weights"]
    built = build(model)
    if model.weights:
        load_weights(built, load_npz(outdir / model.weights))
    assert [n for n, _ in model.inputs] == list(entry["inputs"])
    inputs = {n: torch.from_numpy(np.load(outdir / f)) for n, f in entry["inputs"].items()}
    for (n, dims) in model.inputs:
        shape = inputs[n].shape
        assert len(dims) == len(shape) and all(isinstance(d, str) or d == s for d, s in zip(dims, shape)), n
    got = run_float64(model, built, inputs)
    worst = 0.0
    for n, f in entry["outputs"].items():
        want = np.load(outdir / f)
        assert got[n].shape == want.shape, (entry["case"], n, got[n].shape, want.shape)
        if want.size:
            worst = max(worst, float(np.abs(got[n].numpy() - want).max()))
    assert worst <= 1e-6, (entry["case"], worst)
    return worst


# ----------------------------------------------------------------------------- errors.json
def error_cases() -> list[tuple[str, Model]]:
    """Invalid models; each must make PyTorch raise at construction or at the first forward."""
    out = []

    def e(name, op, shape, layer="conv", **kw):
        out.append((name, Model([("x", list(shape))], [Layer(layer, op, ["x"], kw)], [layer])))

    c2 = dict(in_channels=3, out_channels=4)
    x2, x1, x3 = (1, 3, 5, 5), (1, 3, 5), (1, 3, 4, 5, 4)
    # --- constructor checks (torch/nn/modules/conv.py)
    e("conv2d_groups_zero", "Conv2d", x2, **c2, kernel_size=3, groups=0)
    e("conv2d_groups_negative", "Conv2d", x2, **c2, kernel_size=3, groups=-2)
    e("conv2d_in_channels_not_divisible_by_groups", "Conv2d", x2, **c2, kernel_size=3, groups=2)
    e("conv2d_out_channels_not_divisible_by_groups", "Conv2d", (1, 4, 5, 5), in_channels=4, out_channels=3,
      kernel_size=3, groups=2)
    e("convtranspose2d_in_channels_not_divisible_by_groups", "ConvTranspose2d", x2, **c2, kernel_size=3, groups=2)
    e("convtranspose2d_out_channels_not_divisible_by_groups", "ConvTranspose2d", (1, 4, 5, 5), in_channels=4,
      out_channels=3, kernel_size=3, groups=2)
    e("convtranspose2d_groups_zero", "ConvTranspose2d", x2, **c2, kernel_size=3, groups=0)
    e("lazyconv2d_groups_zero", "LazyConv2d", x2, out_channels=4, kernel_size=3, groups=0)
    e("conv2d_same_strided", "Conv2d", x2, **c2, kernel_size=3, stride=2, padding="same")
    e("conv1d_same_strided", "Conv1d", x1, **c2, kernel_size=3, stride=2, padding="same")
    e("conv3d_same_strided_one_dim", "Conv3d", x3, **c2, kernel_size=3, stride=(1, 1, 2), padding="same")
    e("conv2d_bad_padding_mode", "Conv2d", x2, **c2, kernel_size=3, padding=1, padding_mode="constant")
    e("conv2d_bad_padding_string", "Conv2d", x2, **c2, kernel_size=3, padding="full")
    e("convtranspose2d_padding_mode_reflect", "ConvTranspose2d", x2, **c2, kernel_size=3, padding_mode="reflect")
    e("convtranspose1d_padding_mode_circular", "ConvTranspose1d", x1, **c2, kernel_size=3,
      padding_mode="circular")
    # --- aten argument checks (first forward)
    e("conv2d_negative_padding", "Conv2d", x2, **c2, kernel_size=3, padding=-1)
    e("conv3d_negative_padding_one_dim", "Conv3d", x3, **c2, kernel_size=1, padding=(0, -1, 0))
    e("convtranspose2d_negative_padding", "ConvTranspose2d", x2, **c2, kernel_size=3, padding=-1)
    e("convtranspose2d_negative_output_padding", "ConvTranspose2d", x2, **c2, kernel_size=3, stride=2,
      output_padding=-1)
    e("conv2d_stride_zero", "Conv2d", x2, **c2, kernel_size=3, stride=0)
    e("conv1d_stride_negative", "Conv1d", x1, **c2, kernel_size=3, stride=-1)
    e("convtranspose2d_stride_zero", "ConvTranspose2d", x2, **c2, kernel_size=3, stride=(1, 0))
    e("conv2d_dilation_zero", "Conv2d", x2, **c2, kernel_size=3, dilation=0)
    e("conv1d_dilation_zero", "Conv1d", x1, **c2, kernel_size=3, dilation=0)
    e("convtranspose3d_dilation_zero", "ConvTranspose3d", x3, **c2, kernel_size=3, dilation=0)
    e("conv2d_kernel_zero", "Conv2d", x2, **c2, kernel_size=(0, 3))
    e("conv1d_kernel_zero", "Conv1d", x1, **c2, kernel_size=0)
    e("conv3d_kernel_zero", "Conv3d", x3, **c2, kernel_size=(1, 0, 2))
    e("convtranspose2d_kernel_zero", "ConvTranspose2d", x2, **c2, kernel_size=0)
    e("conv2d_padding_three_values", "Conv2d", x2, **c2, kernel_size=3, padding=(1, 2, 3))
    # --- input rank and channels
    e("conv2d_rank2_input", "Conv2d", (5, 5), **c2, kernel_size=3)
    e("conv1d_rank4_input", "Conv1d", x2, **c2, kernel_size=3)
    e("conv3d_rank3_input", "Conv3d", (3, 5, 5), **c2, kernel_size=3)
    e("convtranspose2d_rank5_input", "ConvTranspose2d", (1, 3, 5, 5, 5), **c2, kernel_size=3)
    e("lazyconv2d_rank2_input", "LazyConv2d", (5, 5), out_channels=4, kernel_size=3)
    e("lazyconvtranspose3d_rank3_input", "LazyConvTranspose3d", (3, 5, 5), out_channels=4, kernel_size=3)
    e("conv2d_channel_mismatch_groups", "Conv2d", x2, in_channels=4, out_channels=4, kernel_size=3, groups=2)
    e("conv2d_unbatched_channel_mismatch", "Conv2d", (2, 5, 5), **c2, kernel_size=3)
    e("convtranspose2d_channel_mismatch", "ConvTranspose2d", (1, 4, 5, 5), **c2, kernel_size=3)
    e("convtranspose1d_channel_mismatch_groups", "ConvTranspose1d", (1, 6, 5), in_channels=4, out_channels=4,
      kernel_size=3, groups=2)
    # --- spatial sizes
    e("conv2d_kernel_larger_than_input", "Conv2d", (1, 3, 4, 4), **c2, kernel_size=5)
    e("conv2d_dilated_kernel_larger_than_padded_input", "Conv2d", (1, 3, 4, 4), **c2, kernel_size=3, dilation=2)
    e("conv1d_kernel_larger_than_input", "Conv1d", (1, 3, 4), **c2, kernel_size=5)
    e("conv3d_kernel_larger_than_input", "Conv3d", (1, 3, 5, 4, 5), **c2, kernel_size=3, dilation=2)
    e("conv2d_zero_spatial_input", "Conv2d", (1, 3, 0, 5), **c2, kernel_size=3)
    e("convtranspose2d_output_too_small", "ConvTranspose2d", (1, 3, 2, 2), **c2, kernel_size=3, padding=3)
    e("convtranspose1d_output_too_small", "ConvTranspose1d", (1, 3, 2), **c2, kernel_size=3, padding=3)
    e("convtranspose2d_output_padding_not_below_stride", "ConvTranspose2d", x2, **c2, kernel_size=3, stride=2,
      output_padding=2)
    e("convtranspose1d_output_padding_stride1", "ConvTranspose1d", x1, **c2, kernel_size=3, output_padding=1)
    e("convtranspose3d_output_padding_one_dim", "ConvTranspose3d", x3, **c2, kernel_size=3, stride=2,
      output_padding=(0, 2, 0))
    e("convtranspose2d_output_size_too_large", "ConvTranspose2d", (1, 3, 6, 6), **c2, kernel_size=3, stride=2,
      padding=1, output_size=(13, 13))
    e("convtranspose2d_output_size_too_small", "ConvTranspose2d", (1, 3, 6, 6), **c2, kernel_size=3, stride=2,
      padding=1, output_size=(11, 10))
    e("convtranspose1d_output_size_out_of_range", "ConvTranspose1d", (1, 3, 6), **c2, kernel_size=3, stride=2,
      output_size=(10,))
    e("convtranspose2d_output_size_three_values", "ConvTranspose2d", (1, 3, 6, 6), **c2, kernel_size=3, stride=2,
      output_size=(1, 13, 13))
    e("convtranspose2d_unbatched_output_size_four_values", "ConvTranspose2d", (3, 6, 6), **c2, kernel_size=3,
      stride=2, output_size=(1, 4, 13, 13))
    e("convtranspose2d_padding_same", "ConvTranspose2d", x2, **c2, kernel_size=3, padding="same")
    # --- padding modes
    e("conv1d_reflect_padding_equal_to_size", "Conv1d", (1, 3, 3), **c2, kernel_size=3, padding=3,
      padding_mode="reflect")
    e("conv2d_reflect_padding_too_large_one_dim", "Conv2d", (1, 3, 5, 3), **c2, kernel_size=3, padding=(1, 3),
      padding_mode="reflect")
    e("conv3d_unbatched_reflect_padding_too_large", "Conv3d", (3, 3, 3, 3), **c2, kernel_size=3, padding=3,
      padding_mode="reflect")
    e("conv1d_same_reflect_padding_too_large", "Conv1d", (1, 3, 3), **c2, kernel_size=7, padding="same",
      padding_mode="reflect")
    e("conv2d_circular_padding_larger_than_size", "Conv2d", x2, **c2, kernel_size=3, padding=6,
      padding_mode="circular")
    e("conv1d_circular_padding_larger_than_size", "Conv1d", x1, **c2, kernel_size=3, padding=6,
      padding_mode="circular")
    # --- lazy modules (checked at the first forward)
    e("lazyconv2d_in_channels_not_divisible_by_groups", "LazyConv2d", x2, out_channels=4, kernel_size=3, groups=2)
    e("lazyconv2d_out_channels_not_divisible_by_groups", "LazyConv2d", (1, 4, 5, 5), out_channels=3,
      kernel_size=3, groups=2)
    e("lazyconv2d_out_channels_below_groups", "LazyConv2d", (1, 4, 5, 5), out_channels=2, kernel_size=3, groups=4)
    e("lazyconvtranspose2d_out_channels_not_divisible_by_groups", "LazyConvTranspose2d", (1, 4, 5, 5), layer="deconv",
      out_channels=3, kernel_size=3, groups=2)
    e("lazyconvtranspose1d_in_channels_not_divisible_by_groups", "LazyConvTranspose1d", x1, layer="deconv",
      out_channels=4, kernel_size=3, groups=2)
    # --- Unfold / Fold
    e("unfold_rank5_input", "Unfold", (1, 2, 5, 3, 4), layer="unfold", kernel_size=2)
    e("unfold_rank2_input", "Unfold", (5, 5), layer="unfold", kernel_size=2)
    e("unfold_zero_channels", "Unfold", (1, 0, 5, 5), layer="unfold", kernel_size=2)
    e("unfold_kernel_larger_than_input", "Unfold", (1, 1, 3, 3), layer="unfold", kernel_size=5)
    e("unfold_no_blocks_one_dim", "Unfold", (1, 1, 1, 5), layer="unfold", kernel_size=2)
    e("unfold_negative_padding", "Unfold", (1, 1, 5, 5), layer="unfold", kernel_size=2, padding=-1)
    e("unfold_stride_zero", "Unfold", (1, 1, 5, 5), layer="unfold", kernel_size=2, stride=0)
    e("unfold_kernel_zero", "Unfold", (1, 1, 5, 5), layer="unfold", kernel_size=0)
    e("unfold_dilation_zero", "Unfold", (1, 1, 5, 5), layer="unfold", kernel_size=2, dilation=0)
    e("unfold_kernel_three_values", "Unfold", (1, 1, 5, 5), layer="unfold", kernel_size=(2, 2, 2))
    e("fold_blocks_mismatch", "Fold", (1, 4, 11), layer="fold", output_size=(4, 5), kernel_size=2)
    e("fold_channels_not_divisible_by_kernel", "Fold", (1, 10, 12), layer="fold", output_size=(4, 5), kernel_size=2)
    e("fold_rank4_input", "Fold", (1, 4, 9, 1), layer="fold", output_size=(4, 4), kernel_size=2)
    e("fold_rank1_input", "Fold", (12,), layer="fold", output_size=(4, 5), kernel_size=2)
    e("fold_zero_blocks", "Fold", (1, 4, 0), layer="fold", output_size=(4, 4), kernel_size=2)
    e("fold_negative_padding", "Fold", (1, 4, 12), layer="fold", output_size=(4, 5), kernel_size=2, padding=-1)
    e("fold_stride_zero", "Fold", (1, 4, 12), layer="fold", output_size=(4, 5), kernel_size=2, stride=0)
    e("fold_kernel_zero", "Fold", (1, 4, 12), layer="fold", output_size=(4, 5), kernel_size=0)
    e("fold_dilation_zero", "Fold", (1, 4, 12), layer="fold", output_size=(4, 5), kernel_size=2, dilation=0)
    e("fold_output_smaller_than_kernel", "Fold", (1, 25, 1), layer="fold", output_size=(3, 3), kernel_size=5)
    e("fold_output_size_three_values", "Fold", (1, 4, 9), layer="fold", output_size=(4, 4, 4), kernel_size=2)
    # --- Add
    out.append(("add_shape_mismatch", Model([("a", [1, 3, 5, 5]), ("b", [1, 3, 5, 3])],
                                            [Layer("sum", "Add", ["a", "b"])], ["sum"])))
    out.append(("add_channel_mismatch_after_conv", Model(
        [("x", [1, 3, 5, 5])],
        [Layer("conv", "Conv2d", ["x"], dict(in_channels=3, out_channels=4, kernel_size=3, padding=1)),
         Layer("sum", "Add", ["conv", "x"])], ["sum"])))
    # --- BatchNorm (eval mode)
    x2 = (2, 3, 4, 4)
    e("batchnorm2d_rank3_input", "BatchNorm2d", (1, 3, 4), layer="bn", num_features=3)
    e("batchnorm2d_rank5_input", "BatchNorm2d", (1, 3, 4, 4, 4), layer="bn", num_features=3)
    e("batchnorm1d_rank4_input", "BatchNorm1d", x2, layer="bn", num_features=3)
    e("batchnorm1d_rank1_input", "BatchNorm1d", (3,), layer="bn", num_features=3)
    e("batchnorm3d_rank4_input", "BatchNorm3d", x2, layer="bn", num_features=3)
    e("batchnorm2d_channel_mismatch", "BatchNorm2d", x2, layer="bn", num_features=4)
    e("batchnorm1d_channel_mismatch_2d_input", "BatchNorm1d", (5, 3), layer="bn", num_features=4)
    e("batchnorm2d_affine_false_channel_mismatch", "BatchNorm2d", x2, layer="bn", num_features=2, affine=False)
    e("batchnorm2d_no_running_stats_channel_mismatch", "BatchNorm2d", x2, layer="bn", num_features=4,
      track_running_stats=False)
    e("batchnorm2d_negative_eps", "BatchNorm2d", x2, layer="bn", num_features=3, eps=-0.001)
    e("batchnorm2d_no_running_stats_eps_zero", "BatchNorm2d", x2, layer="bn", num_features=3, eps=0.0,
      track_running_stats=False)
    e("batchnorm2d_no_running_stats_negative_eps", "BatchNorm2d", x2, layer="bn", num_features=3, eps=-1e-05,
      track_running_stats=False)
    e("batchnorm2d_no_running_stats_single_value", "BatchNorm2d", (1, 3, 1, 1), layer="bn", num_features=3,
      track_running_stats=False)
    e("batchnorm1d_no_running_stats_batch1", "BatchNorm1d", (1, 3), layer="bn", num_features=3,
      track_running_stats=False)
    e("batchnorm3d_no_running_stats_single_value_mismatch", "BatchNorm3d", (1, 4, 1, 1, 1), layer="bn",
      num_features=3, track_running_stats=False)
    e("batchnorm2d_negative_features", "BatchNorm2d", x2, layer="bn", num_features=-1)
    e("batchnorm2d_negative_features_stats_only", "BatchNorm2d", x2, layer="bn", num_features=-2, affine=False)
    e("batchnorm2d_zero_features_empty_input", "BatchNorm2d", (1, 0, 4, 4), layer="bn", num_features=0)
    e("batchnorm2d_zero_features_nonempty_input", "BatchNorm2d", x2, layer="bn", num_features=0)
    e("lazybatchnorm2d_rank2_input", "LazyBatchNorm2d", (2, 3), layer="bn")
    e("lazybatchnorm1d_rank1_input", "LazyBatchNorm1d", (3,), layer="bn")
    e("lazybatchnorm2d_zero_channels", "LazyBatchNorm2d", (1, 0, 4, 4), layer="bn")
    e("lazybatchnorm2d_no_running_stats_single_value", "LazyBatchNorm2d", (1, 3, 1, 1), layer="bn",
      track_running_stats=False)
    out.append(("batchnorm2d_channel_mismatch_after_conv", Model(
        [("x", [1, 3, 5, 5])],
        [Layer("conv", "Conv2d", ["x"], dict(in_channels=3, out_channels=4, kernel_size=3)),
         Layer("bn", "BatchNorm2d", ["conv"], dict(num_features=3))], ["bn"])))
    # --- activations
    e("hardtanh_max_equal_min", "Hardtanh", x2, layer="act", min_val=1.0, max_val=1.0)
    e("hardtanh_max_below_min_ints", "Hardtanh", x2, layer="act", min_val=2, max_val=-2)
    e("hardtanh_max_below_default_min", "Hardtanh", x2, layer="act", max_val=-1.5)
    e("hardtanh_min_above_default_max", "Hardtanh", x2, layer="act", min_val=1)
    e("hardtanh_deprecated_max_value", "Hardtanh", x2, layer="act", max_val=2.0, max_value=-3.0)
    e("gelu_bad_approximate", "GELU", x2, layer="act", approximate="exact")
    e("gelu_approximate_capitalized", "GELU", x2, layer="act", approximate="Tanh")
    # --- Linear, Flatten, Concat, Softmax, Dropout, Sub/Mul/Div
    e("linear_in_features_mismatch", "Linear", (2, 5), layer="fc", in_features=4, out_features=3)
    e("linear_nobias_mismatch_3d_input", "Linear", (2, 3, 5), layer="fc", in_features=4, out_features=3, bias=False)
    e("linear_mismatch_1d_input", "Linear", (5,), layer="fc", in_features=4, out_features=3)
    e("linear_batch0_mismatch", "Linear", (0, 4), layer="fc", in_features=3, out_features=2)
    e("linear_0d_input", "Linear", (), layer="fc", in_features=4, out_features=3)
    e("linear_negative_out_features", "Linear", (2, 4), layer="fc", in_features=4, out_features=-1)
    e("linear_negative_in_features", "Linear", (2, 4), layer="fc", in_features=-4, out_features=1)
    e("lazylinear_negative_out_features", "LazyLinear", (2, 4), layer="fc", out_features=-3)
    e("lazylinear_0d_input", "LazyLinear", (), layer="fc", out_features=3)
    e("flatten_start_after_end", "Flatten", (3, 4, 5), layer="flat", start_dim=2, end_dim=1)
    e("flatten_start_dim_out_of_range", "Flatten", (3, 4), layer="flat", start_dim=2)
    e("flatten_default_on_1d_input", "Flatten", (3,), layer="flat")
    e("flatten_end_dim_out_of_range_negative", "Flatten", (3, 4, 5), layer="flat", start_dim=0, end_dim=-4)
    e("softmax_dim_out_of_range", "Softmax", (2, 3), layer="sm", dim=2)
    e("softmax_0d_dim1", "Softmax", (), layer="sm", dim=1)
    e("logsoftmax_dim_out_of_range_negative", "LogSoftmax", (2, 3), layer="sm", dim=-3)
    e("dropout_p_above_1", "Dropout", x2, layer="drop", p=1.5)
    e("dropout_p_negative", "Dropout", x2, layer="drop", p=-0.1)
    e("dropout2d_p_int", "Dropout2d", x2, layer="drop", p=2)
    e("dropout1d_p_above_1", "Dropout1d", (2, 3, 4), layer="drop", p=1.01)

    def multi(name, op, shapes, **kw):
        names = [chr(ord("a") + i) for i in range(len(shapes))]
        out.append((name, Model([(n, list(s)) for n, s in zip(names, shapes)], [Layer("y", op, names, kw)], ["y"])))

    multi("concat_dim_out_of_range", "Concat", [(2, 3), (2, 3)], dim=2)
    multi("concat_rank_mismatch", "Concat", [(2, 3), (2, 3, 1)])
    multi("concat_size_mismatch", "Concat", [(2, 3), (2, 4), (3, 4)], dim=1)
    multi("concat_0d_input", "Concat", [(), ()])
    multi("mul_shape_mismatch", "Mul", [(2, 3), (2, 4)])
    multi("sub_shape_mismatch_broadcast", "Sub", [(2, 3, 4), (5, 1)])
    multi("div_shape_mismatch", "Div", [(4, 3), (2, 3)])
    out += spatial_error_cases()
    return out


# Configurations one might expect PyTorch to reject but which it accepts (reported, not written).
ACCEPTED_PROBES = [
    ("conv2d_negative_padding_replicate", "Conv2d", (1, 3, 5, 5),
     dict(in_channels=3, out_channels=4, kernel_size=3, padding=-1, padding_mode="replicate")),
    ("conv1d_negative_padding_reflect", "Conv1d", (1, 3, 7),
     dict(in_channels=3, out_channels=4, kernel_size=3, padding=-1, padding_mode="reflect")),
    ("conv2d_negative_padding_circular", "Conv2d", (1, 3, 5, 5),
     dict(in_channels=3, out_channels=4, kernel_size=3, padding=-1, padding_mode="circular")),
    ("lazyconvtranspose2d_out_not_divisible_nobias", "LazyConvTranspose2d", (1, 4, 5, 5),
     dict(out_channels=3, kernel_size=3, groups=2, bias=False)),
    ("convtranspose2d_output_size_full_wrong_batch_channels", "ConvTranspose2d", (1, 3, 5, 5),
     dict(in_channels=3, out_channels=4, kernel_size=3, stride=2, output_size=(7, 9, 12, 12))),
    ("conv2d_circular_padding_equal_to_size", "Conv2d", (1, 3, 5, 5),
     dict(in_channels=3, out_channels=4, kernel_size=3, padding=5, padding_mode="circular")),
    ("conv2d_zero_in_channels", "Conv2d", (1, 0, 5, 5), dict(in_channels=0, out_channels=4, kernel_size=3)),
    # BatchNorm: every one of these is also a layer fixture (convrt must accept it too).
    ("batchnorm2d_eps_zero", "BatchNorm2d", (2, 3, 4, 4), dict(num_features=3, eps=0.0)),
    ("batchnorm2d_empty_channels_mismatch", "BatchNorm2d", (1, 0, 4, 4), dict(num_features=3)),
    ("batchnorm2d_no_tensors_features_mismatch", "BatchNorm2d", (2, 3, 4, 4),
     dict(num_features=5, affine=False, track_running_stats=False)),
    ("batchnorm2d_no_tensors_negative_features", "BatchNorm2d", (2, 3, 4, 4),
     dict(num_features=-1, affine=False, track_running_stats=False)),
    ("batchnorm2d_batch0_no_running_stats", "BatchNorm2d", (0, 3, 4, 4),
     dict(num_features=3, track_running_stats=False)),
    ("batchnorm2d_no_running_stats_batch1", "BatchNorm2d", (1, 3, 2, 1),
     dict(num_features=3, track_running_stats=False)),
    ("leakyrelu_slope_negative", "LeakyReLU", (2, 3), dict(negative_slope=-0.5)),
]


def torch_failure(model: Model):
    """Builds and runs `model` in PyTorch; returns (stage, exception) or None when it works."""
    torch.manual_seed(0)
    try:
        built = build(model)
    except Exception as exc:  # noqa: BLE001 - any exception is the datum we record
        return "construct", exc
    shapes = {n: tuple(d) for n, d in model.inputs}
    try:
        with torch.no_grad():
            run(model, built, make_inputs(shapes, 0))
    except Exception as exc:  # noqa: BLE001
        return "forward", exc
    return None


def stable_message(message: str) -> tuple[str, str | None]:
    """Sorts Python set literals that torch formats into messages (their order follows the hash seed)."""
    def sort_set(m):
        return "{" + ", ".join(sorted(x.strip() for x in m[1].split(","))) + "}"
    stable = re.sub(r"\{('[^{}]*')\}", sort_set, message)
    if stable == message and not re.search(r"\{'", message):
        return message, None
    return stable, "torch prints a Python set here; its order varies between runs (sorted here)"


def generate_errors(check_only: bool) -> None:
    path = FIXTURES / "errors.json"
    entries, accepted = [], []
    for name, model in error_cases():
        text = model.text()
        failure = torch_failure(parse(text))
        if failure is None:
            accepted.append(name)
            continue
        stage, exc = failure
        message, note = stable_message(str(exc))
        entry = {"name": name, "convnet": text, "torch_error": message,
                 "exception": type(exc).__name__, "stage": stage}
        if note:
            entry["note"] = note
        entries.append(entry)
    for name, op, shape, kw in ACCEPTED_PROBES:
        model = Model([("x", list(shape))], [Layer("conv", op, ["x"], kw)], ["conv"])
        if torch_failure(parse(model.text())) is None:
            accepted.append(name)
        else:
            print(f"errors: probe {name} is now rejected by torch")
    body = json.dumps(entries, indent=1) + "\n"
    if check_only:
        assert path.read_text() == body, "errors.json differs from what torch says now"
    else:
        path.write_text(body)
    print(f"errors: {len(entries)} cases; accepted by torch (not written): {', '.join(accepted)}")


def generate_layers(check_only: bool) -> list[dict]:
    outdir = FIXTURES / "layers"
    outdir.mkdir(parents=True, exist_ok=True)
    manifest_path = outdir / "manifest.json"
    if check_only:
        manifest = json.loads(manifest_path.read_text())["cases"]
    else:
        for old in outdir.iterdir():
            old.unlink()
        manifest = [write_case(case, outdir) for case in all_cases()]
        manifest_path.write_text(json.dumps({"generator": "Tools/gen_fixtures.py",
                                             "oracle": "PyTorch modules in float64 on the float32 "
                                                       "weights/inputs, rounded to float32",
                                             "torch": torch.__version__.split("+")[0],
                                             "cases": manifest}, indent=1) + "\n")
    worst = max(verify_case(e, outdir) for e in manifest)
    print(f"layers: {len(manifest)} cases verified (max |diff| {worst:g})")
    return manifest


def main(argv: list[str]) -> None:
    check_only = "--check" in argv
    generate_layers(check_only)
    generate_errors(check_only)


if __name__ == "__main__":
    main(sys.argv[1:])
