#!/usr/bin/env python3
"""Regenerates the ONNX import fixtures under Tests/ConvRTTests/Fixtures/onnx/.

    /work/venv/bin/python Tools/gen_onnx_fixtures.py

Two kinds of models:
  - exported from small PyTorch modules with the TorchScript exporter (dynamo=False), at the
    opset each case names; the expected output is the module run in float64 on the float32
    weights and input, rounded to float32;
  - written by hand with onnx.helper (auto_pad, asymmetric pads, output_shape, ...); the
    expected output is onnx.reference.ReferenceEvaluator's.
Every expected output is cross-checked against ONNX Runtime.

Per case: <case>.onnx, <case>.in.npy (float32 input), <case>.out.npy (float32 output), and an
entry in manifest.json: {case, opset, input, output, ops, dynamic, max_abs_expected}. The Swift
tests (ONNXImportTests) import every case; a case runs end to end once all the convrt ops it
maps to have kernels, and is checked against its mapping otherwise.
"""
from __future__ import annotations

import io
import json
import pathlib
import warnings

import numpy as np
import onnx
import onnx.helper as oh
import onnx.reference
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F

warnings.simplefilter("ignore")
torch.set_num_threads(1)

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests/ConvRTTests/Fixtures/onnx"
MANIFEST: list[dict] = []


def seeded(seed: int, module: nn.Module) -> nn.Module:
    """Randomizes every parameter and BatchNorm buffer (deterministically) and sets eval mode."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in list(module.named_parameters()) + list(module.named_buffers()):
            if t.dtype != torch.float32:
                continue
            if name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
            else:
                t.copy_(torch.rand(t.shape, generator=g) * 2 - 1)
    return module.eval()


def record(case: str, model: onnx.ModelProto, x: np.ndarray, expected: np.ndarray, dynamic: bool) -> None:
    onnx.checker.check_model(model)
    data = model.SerializeToString()
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    got = session.run(None, {model.graph.input[0].name: x})[0]
    scale = max(1.0, float(np.abs(expected).max()))
    assert got.shape == expected.shape, (case, got.shape, expected.shape)
    assert np.abs(got - expected).max() <= 1e-4 * scale, (case, float(np.abs(got - expected).max()))
    (OUT / f"{case}.onnx").write_bytes(data)
    np.save(OUT / f"{case}.in.npy", x)
    np.save(OUT / f"{case}.out.npy", expected.astype(np.float32))
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    MANIFEST.append({
        "case": case, "opset": opset, "input": model.graph.input[0].name, "output": model.graph.output[0].name,
        "ops": sorted({n.op_type for n in model.graph.node}), "dynamic": dynamic,
        "max_abs_expected": float(np.abs(expected).max()),
    })


def export(case: str, module: nn.Module, shape: tuple, opset: int, *, fold: bool = True, dynamic: bool = False,
           seed: int = 0) -> None:
    module = seeded(seed, module)
    g = torch.Generator().manual_seed(1000 + seed)
    x = torch.rand(shape, generator=g) * 4 - 2
    f = io.BytesIO()
    axes = {"x": {0: "N"}, "y": {0: "N"}} if dynamic else None
    torch.onnx.export(module, (x,), f, opset_version=opset, dynamo=False, do_constant_folding=fold,
                      input_names=["x"], output_names=["y"], dynamic_axes=axes)
    model = onnx.load_from_string(f.getvalue())
    with torch.no_grad():
        expected = module.double()(x.double()).float().numpy()
    record(case, model, x.numpy(), expected, dynamic)


def handmade(case: str, nodes: list, inits: dict, shape: list, opset: int, seed: int = 0, oracle=None) -> None:
    """A one-input graph from onnx.helper nodes reading `x` and writing `y`. The expected output is
    `oracle(x)` when given (ReferenceEvaluator mishandles ConvTranspose's output_shape), else the
    ONNX reference evaluator's."""
    rng = np.random.default_rng(seed)
    initializers = [onnx.numpy_helper.from_array(v, k) for k, v in inits.items()]
    graph = oh.make_graph(nodes, case, [oh.make_tensor_value_info("x", onnx.TensorProto.FLOAT, shape)],
                          [oh.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)], initializers)
    model = oh.make_model(graph, opset_imports=[oh.make_opsetid("", opset)], producer_name="gen_onnx_fixtures")
    model.ir_version = 8
    x = (rng.random([d if isinstance(d, int) else 2 for d in shape], dtype=np.float32) * 4 - 2).astype(np.float32)
    if oracle is not None:
        expected = oracle(torch.from_numpy(x).double()).float().numpy()
    else:
        expected = onnx.reference.ReferenceEvaluator(model).run(None, {"x": x})[0]
    out_shape = [shape[0] if not isinstance(shape[0], int) and i == 0 else d for i, d in enumerate(expected.shape)]
    model.graph.output[0].CopyFrom(oh.make_tensor_value_info("y", onnx.TensorProto.FLOAT, out_shape))
    record(case, model, x, expected, dynamic=any(not isinstance(d, int) for d in shape))


def weights(rng, *shape):
    return (rng.random(shape, dtype=np.float32) * 2 - 1).astype(np.float32)


# ---- PyTorch exports ------------------------------------------------------------------------

class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 3, 3, padding=1)
        self.conv2 = nn.Conv2d(3, 3, 3, padding=1, bias=False)

    def forward(self, x):
        return F.relu(self.conv2(F.relu(self.conv1(x))) + x)


class ViewLinear(nn.Module):
    """`x.view(x.size(0), -1)`: a Shape/Gather/Unsqueeze/Concat chain into Reshape."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, stride=2)
        self.fc = nn.Linear(3 * 3 * 3, 4)

    def forward(self, x):
        y = F.relu(self.conv(x))
        return self.fc(y.view(y.size(0), -1))


class UNetish(nn.Module):
    def __init__(self, mode: str):
        super().__init__()
        self.down = nn.Conv2d(2, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.up = nn.Upsample(scale_factor=2, mode=mode, **({} if mode == "nearest" else {"align_corners": False}))
        self.out = nn.Conv2d(6, 2, 1)

    def forward(self, x):
        d = F.relu(self.down(x))
        u = self.up(self.pool(d))
        return torch.sigmoid(self.out(torch.cat([u, x], dim=1)))


class TCN(nn.Module):
    """Dilated causal conv with a chomp (Slice), residual Add, then LogSoftmax over classes."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(3, 3, 3, padding=4, dilation=2)
        self.head = nn.Linear(3, 5)

    def forward(self, x):
        y = F.relu(self.conv(x)[:, :, :-4]) + x
        return F.log_softmax(self.head(y[:, :, -1]), dim=1)


class Pools(nn.Module):
    def __init__(self):
        super().__init__()
        self.mp = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
        self.ap = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2, 3)

    def forward(self, x):
        y = self.ap(self.mp(x))
        return torch.softmax(self.fc(torch.flatten(self.gap(y), 1)), dim=-1)


class Arithmetic(nn.Module):
    def forward(self, x):
        y = torch.cat([x * 0.5, x - 1.0, 2.0 / (x * x + 1.0)], dim=1)
        return y.transpose(2, 3).unsqueeze(1).squeeze(1).mean(dim=(2, 3), keepdim=True)


def exports() -> None:
    export("conv_bn_relu", nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU()),
           (1, 3, 6, 6), 13, fold=False)
    export("conv_bn_relu_dynamic", nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.BatchNorm2d(4), nn.ReLU()),
           (2, 3, 7, 7), 17, fold=False, dynamic=True, seed=1)
    export("residual_add", Residual(), (1, 3, 5, 5), 17, seed=2)
    export("reflect_conv", nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), nn.Tanh()),
           (1, 2, 5, 6), 11, seed=3)
    export("replicate_conv1d", nn.Conv1d(2, 3, 5, padding=2, padding_mode="replicate"), (1, 2, 9), 13, seed=4)
    export("circular_conv1d", nn.Conv1d(2, 3, 3, padding=2, dilation=2, padding_mode="circular"), (1, 2, 8), 13, seed=5)
    export("circular_conv2d", nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode="circular"), (1, 2, 5, 6), 17, seed=19)
    export("convtranspose_output_padding", nn.Sequential(nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1),
                                                         nn.LeakyReLU(0.2)), (1, 4, 4, 5), 17, seed=6)
    export("convtranspose3d_groups", nn.ConvTranspose3d(4, 6, 2, stride=2, groups=2), (1, 4, 2, 3, 2), 13, seed=7)
    export("clip_relu6", nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU6(), nn.Conv2d(3, 2, 1), nn.Hardtanh(-0.5, 0.5)),
           (1, 2, 6, 6), 11, seed=8)
    export("activations_opset17", nn.Sequential(nn.Conv1d(2, 2, 1), nn.SiLU(), nn.Hardswish(), nn.Hardsigmoid(),
                                                nn.GELU(), nn.Sigmoid()), (1, 2, 7), 17, seed=9)
    export("activations_opset21", nn.Sequential(nn.Conv3d(2, 2, 1), nn.GELU(), nn.LeakyReLU(0.1), nn.Tanh(),
                                                nn.Hardswish()), (1, 2, 2, 3, 3), 21, seed=10)
    export("view_linear", ViewLinear(), (2, 2, 7, 7), 13, dynamic=True, seed=11)
    export("unet_bilinear", UNetish("bilinear"), (1, 2, 6, 6), 13, seed=12)
    export("unet_nearest", UNetish("nearest"), (1, 2, 6, 6), 11, seed=13)
    export("tcn", TCN(), (1, 3, 10), 13, seed=14)
    export("pools", Pools(), (1, 2, 9, 9), 17, seed=15)
    export("log_softmax_opset11", nn.Sequential(nn.Conv2d(2, 3, 1), nn.LogSoftmax(dim=1)), (1, 2, 3, 3), 11, seed=16)
    export("arithmetic", Arithmetic(), (1, 2, 3, 4), 13, seed=17)
    export("fold_col2im", nn.Fold((4, 5), (2, 2), padding=1), (1, 8, 30), 18, seed=18)


# ---- Hand-written graphs ----------------------------------------------------------------------

def handmades() -> None:
    rng = np.random.default_rng(42)
    w = weights(rng, 3, 2, 4, 4)
    b = weights(rng, 3)
    handmade("same_upper_even_kernel", [oh.make_node("Conv", ["x", "w", "b"], ["y"], auto_pad="SAME_UPPER")],
             {"w": w, "b": b}, [1, 2, 7, 6], 12)
    handmade("conv_same_lower_stride2", [oh.make_node("Conv", ["x", "w"], ["y"], auto_pad="SAME_LOWER", strides=[2, 2])],
             {"w": w}, [1, 2, 7, 6], 13)
    handmade("conv_asymmetric_pads", [oh.make_node("Conv", ["x", "w", "b"], ["y"], pads=[0, 1, 2, 1])],
             {"w": w, "b": b}, [1, 2, 6, 6], 11)
    wt = weights(rng, 2, 3, 3, 3)
    bt = weights(rng, 3)

    def transposed(begin, end, bias=None):
        """The spec's ConvTranspose: the full scatter, then `begin`/`end` cropped off each dim."""
        def run(x):
            full = F.conv_transpose2d(x, torch.from_numpy(wt).double(), None if bias is None else torch.from_numpy(bias).double(), stride=2)
            return full[:, :, begin[0]:full.shape[2] - end[0], begin[1]:full.shape[3] - end[1]]
        return run

    handmade("convtranspose_output_shape", [oh.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[2, 2],
                                                         output_shape=[9, 10])], {"w": wt}, [1, 2, 4, 5], 13,
             oracle=transposed([0, 1], [0, 0]))
    handmade("convtranspose_output_shape_odd", [oh.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[2, 2],
                                                             output_shape=[8, 9])], {"w": wt}, [1, 2, 4, 5], 13,
             oracle=transposed([1, 1], [0, 1]))
    handmade("convtranspose_same_upper", [oh.make_node("ConvTranspose", ["x", "w", "bt"], ["y"], strides=[2, 2],
                                                       auto_pad="SAME_UPPER")],
             {"w": wt, "bt": bt}, [1, 2, 3, 4], 13, oracle=transposed([0, 0], [1, 1], bt))
    scale, bias, mean = weights(rng, 2), weights(rng, 2), weights(rng, 2)
    var = (rng.random(2, dtype=np.float32) + 0.5).astype(np.float32)
    w1 = weights(rng, 2, 2, 3, 3)
    handmade("opset21_mix", [
        oh.make_node("Conv", ["x", "w1"], ["c"], pads=[1, 1, 1, 1]),
        oh.make_node("BatchNormalization", ["c", "s", "bb", "m", "v"], ["n"], epsilon=1e-3),
        oh.make_node("HardSigmoid", ["n"], ["h"], alpha=0.3, beta=0.4),
        oh.make_node("Add", ["h", "x"], ["a"]),
        oh.make_node("Clip", ["a", "lo", ""], ["r"]),
        oh.make_node("Identity", ["r"], ["i"]),
        oh.make_node("Dropout", ["i"], ["y"]),
    ], {"w1": w1, "s": scale, "bb": bias, "m": mean, "v": var, "lo": np.array(0.25, np.float32)}, ["N", 2, 5, 5], 21)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    exports()
    handmades()
    (OUT / "manifest.json").write_text(json.dumps(MANIFEST, indent=1) + "\n")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(MANIFEST)} cases to {OUT} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
