#!/usr/bin/env python3
"""Expected outputs for the ONNX-only attribute combinations of convrt's spatial layers.

    /work/venv/bin/python Tools/gen_onnx_spatial_fixtures.py

PyTorch cannot express these (asymmetric pooling pads, every Resize coordinate transform and
nearest rounding, Pad's edge/wrap on asymmetric amounts), so the oracle is the ONNX reference
evaluator (`onnx.reference`). Writes Tests/ConvRTTests/Fixtures/onnx_spatial.json:

    [{name, op, attributes (convrt IR terms), input_shape, input, output_shape, output}]

Inputs are small integers-plus-fractions so every value is exact in float32.
"""
import json
import pathlib

import numpy as np
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "ConvRTTests" / "Fixtures" / "onnx_spatial.json"
OPSET = 21


def run(node, x, extra_inputs=()):
    names = ["x"] + [f"i{k}" for k in range(len(extra_inputs))]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)]
    inits = [helper.make_tensor(n, TensorProto.INT64 if v.dtype == np.int64 else TensorProto.FLOAT, v.shape,
                                v.flatten().tolist()) for n, v in zip(names[1:], extra_inputs)]
    node.input[:] = names[:1] + [n if v is not None else "" for n, v in zip(names[1:], extra_inputs)]
    graph = helper.make_graph([node], "g", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              initializer=[i for i in inits])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    return ReferenceEvaluator(model).run(None, {"x": x})[0]


def sample(shape, seed):
    rng = np.random.default_rng(seed)
    return (rng.integers(-40, 40, size=shape) / 8).astype(np.float32)


def entry(name, op, attributes, x, y):
    return dict(name=name, op=op, attributes=attributes, input_shape=list(x.shape), input=x.flatten().tolist(),
                output_shape=list(y.shape), output=np.asarray(y, dtype=np.float32).flatten().tolist())


def pool_cases():
    out = []
    configs = [
        # name, kind, x shape, kernel, strides, pads (begin..., end...), dilations, ceil, count_include_pad
        ("maxpool_asym_pads", "max", (1, 2, 7, 8), [3, 3], [2, 2], [0, 1, 1, 0], [1, 1], 0, 0),
        ("maxpool_asym_pads_ceil", "max", (1, 2, 7, 8), [3, 2], [2, 2], [1, 0, 0, 1], [1, 1], 1, 0),
        ("maxpool_same_upper_k2s2", "max", (1, 1, 5, 5), [2, 2], [2, 2], [0, 0, 1, 1], [1, 1], 0, 0),
        ("maxpool_asym_dilated", "max", (1, 1, 9, 9), [3, 2], [1, 2], [1, 0, 0, 1], [2, 2], 0, 0),
        ("maxpool1d_asym", "max", (1, 2, 9), [3], [2], [1, 0], [1], 1, 0),
        ("maxpool3d_asym", "max", (1, 1, 4, 5, 5), [2, 3, 2], [2, 2, 1], [1, 0, 0, 0, 1, 1], [1, 1, 1], 0, 0),
        ("avgpool_asym_include_pad", "average", (1, 2, 7, 8), [3, 3], [2, 2], [0, 1, 1, 0], [1, 1], 0, 1),
        ("avgpool_asym_exclude_pad", "average", (1, 2, 7, 8), [3, 3], [2, 2], [0, 1, 1, 0], [1, 1], 0, 0),
        ("avgpool_asym_ceil_include_pad", "average", (1, 1, 6, 7), [3, 2], [2, 2], [1, 0, 0, 1], [1, 1], 1, 1),
        ("avgpool_same_lower_k3s1", "average", (1, 1, 4, 5), [3, 3], [1, 1], [1, 1, 1, 1], [1, 1], 0, 0),
        ("avgpool1d_asym_ceil", "average", (1, 1, 8), [3], [2], [0, 1], [1], 1, 1),
        ("avgpool3d_asym", "average", (1, 1, 4, 4, 5), [2, 2, 3], [1, 2, 2], [0, 1, 1, 1, 0, 1], [1, 1, 1], 0, 0),
    ]
    for i, (name, kind, shape, k, s, pads, d, ceil, cip) in enumerate(configs):
        x = sample(shape, i)
        n = len(k)
        attrs = dict(kernel_shape=k, strides=s, pads=pads, ceil_mode=ceil)
        if kind == "max":
            node = helper.make_node("MaxPool", ["x"], ["y"], dilations=d, **attrs)
        else:
            node = helper.make_node("AveragePool", ["x"], ["y"], count_include_pad=cip, **attrs)
        y = run(node, x)
        out.append(entry(name, "pool", dict(kind=kind, kernel=k, stride=s, pad_begin=pads[:n], pad_end=pads[n:],
                                            dilation=d, ceil_mode=bool(ceil), count_include_pad=bool(cip)), x, y))
    return out


def pad_cases():
    out = []
    onnx_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}
    configs = [
        ("pad_constant_asym", "constant", (1, 2, 3, 4), [1, 0], [2, 3], 1.5),
        ("pad_constant_value", "constant", (1, 2, 4, 5), [0, 2], [1, 0], -0.5),
        ("pad_constant_channels_too", "constant", (1, 2, 3, 4), [1, 0, 2], [0, 1, 1], 0.0),
        ("pad_reflect_asym", "reflect", (1, 2, 4, 5), [3, 0], [1, 4], 0.0),
        ("pad_edge_asym", "replicate", (1, 2, 3, 4), [0, 5], [4, 1], 0.0),
        ("pad_wrap_asym", "circular", (1, 2, 3, 4), [2, 0], [3, 4], 0.0),
        ("pad_wrap_1d", "circular", (2, 5), [3], [5], 0.0),
    ]
    for i, (name, mode, shape, begin, end, value) in enumerate(configs):
        x = sample(shape, 100 + i)
        lead = len(shape) - len(begin)
        pads = np.array([0] * lead + begin + [0] * lead + end, dtype=np.int64)
        node = helper.make_node("Pad", ["x"], ["y"], mode=onnx_mode[mode])
        y = run(node, x, (pads, np.array([value], dtype=np.float32)))
        out.append(entry(name, "pad", dict(mode=mode, begin=begin, end=end, value=value), x, y))
    return out


def resize_cases():
    out = []
    transforms = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"]
    roundings = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]
    # Every scale gives an integral output length: ONNX's reference evaluator then agrees with
    # ONNX Runtime and PyTorch, which use the integral length in align_corners/pytorch_half_pixel.
    x2 = sample((1, 2, 4, 6), 200)
    x1 = sample((1, 1, 4), 201)
    x3 = sample((1, 1, 2, 3, 4), 202)
    k = 0
    for t in transforms:
        for r in roundings:
            for label, scales, sizes in [("up", [1.75, 2.5], None), ("down", [0.5, 0.5], None), ("sizes", None, [5, 3])]:
                out.append(resize_case(f"resize_nearest_{t}_{r}_{label}", x2, "nearest", t, r, scales, sizes))
                k += 1
        for label, scales, sizes in [("up", [1.75, 2.5], None), ("down", [0.5, 0.5], None), ("sizes", None, [5, 1])]:
            out.append(resize_case(f"resize_linear_{t}_{label}", x2, "linear", t, "floor", scales, sizes))
        out.append(resize_case(f"resize_linear1d_{t}", x1, "linear", t, "floor", [1.75], None))
        out.append(resize_case(f"resize_linear3d_{t}", x3, "linear", t, "floor", None, [3, 5, 2]))
        out.append(resize_case(f"resize_nearest3d_{t}", x3, "nearest", t, "round_prefer_floor", [1.5, 2.0, 0.5], None))
    return out


def resize_case(name, x, mode, transform, rounding, scales, sizes):
    node = helper.make_node("Resize", ["x"], ["y"], mode=mode, coordinate_transformation_mode=transform,
                            nearest_mode=rounding)
    lead = [1.0, 1.0]
    extra = (None,
             np.array(lead + scales, dtype=np.float32) if scales else None,
             np.array(list(x.shape[:2]) + sizes, dtype=np.int64) if sizes else None)
    # The reference evaluator takes absent optional inputs as empty names.
    y = run_resize(node, x, extra)
    # The importer reads float32 scales: record exactly those values.
    scales = [float(np.float32(v)) for v in scales] if scales else None
    return entry(name, "resize", dict(mode=mode, coordinate_transform=transform, nearest_rounding=rounding,
                                      scales=scales, sizes=sizes), x, y)


def run_resize(node, x, extra):
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)]
    inits, names = [], ["x"]
    for n, v in zip(["roi", "scales", "sizes"], extra):
        if v is None:
            names.append("")
            continue
        names.append(n)
        inits.append(helper.make_tensor(n, TensorProto.INT64 if v.dtype == np.int64 else TensorProto.FLOAT,
                                        v.shape, v.flatten().tolist()))
    while names and names[-1] == "":
        names.pop()
    node.input[:] = names
    graph = helper.make_graph([node], "g", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    return ReferenceEvaluator(model).run(None, {"x": x})[0]


def main():
    cases = pool_cases() + pad_cases() + resize_cases()
    OUT.write_text(json.dumps(cases, separators=(",", ":")) + "\n")
    print(f"{len(cases)} cases -> {OUT}")


if __name__ == "__main__":
    main()
