#!/usr/bin/env python3
"""Regenerates Tests/ConvRTTests/Fixtures/onnx_ops.json: the ONNX-only semantics of convrt's tensor ops
(Reshape 0/-1/allowzero, Slice negative steps and clamping, Gather negative and scalar indices,
Squeeze/Unsqueeze negative axes, MatMul 1-D and broadcasting, ...), checked against
`onnx.reference.ReferenceEvaluator` (the ONNX spec's executable reference).

    /work/venv/bin/python Tools/gen_onnx_op_fixtures.py          # write
    /work/venv/bin/python Tools/gen_onnx_op_fixtures.py --check  # verify the committed file

Each case holds convrt's op (kind + attributes, as the IR spells them), its float32 inputs and either
the expected output or `"error": true` when the ONNX reference rejects the model. The constant
inputs of ONNX (Reshape's shape, Slice's starts/ends/axes/steps, Gather's indices, axes) are
attributes in convrt's IR.
"""
from __future__ import annotations

import json
import pathlib
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "ConvRTTests" / "Fixtures" / "onnx_ops.json"
INT64_MAX, INT64_MIN = 2**63 - 1, -(2**63)


def run_onnx(op_type, inputs, consts, attrs):
    """Runs one ONNX node: float inputs `x0, x1, ...`, int64 constants after them, in the given order."""
    names = [f"x{i}" for i in range(len(inputs))]
    inits = []
    for i, (name, value) in enumerate(consts):
        if value is None:
            names.append("")
            continue
        cname = f"c{i}_{name}"
        inits.append(numpy_helper.from_array(np.array(value, dtype=np.int64), cname))
        names.append(cname)
    node = helper.make_node(op_type, names, ["y"], **attrs)
    graph = helper.make_graph(
        [node], "g",
        [helper.make_tensor_value_info(f"x{i}", TensorProto.FLOAT, list(a.shape)) for i, a in enumerate(inputs)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    try:
        return ReferenceEvaluator(model).run(None, {f"x{i}": a for i, a in enumerate(inputs)})[0]
    except Exception:  # noqa: BLE001 - a rejection is the datum
        return None


CASES = []


# Models the spec calls invalid or undefined but onnx.reference (NumPy underneath) runs anyway;
# convrt rejects them, as ONNX Runtime does.
SPEC_REJECTS = {
    "reshape_below_minus_one": "the spec allows -1 as the only negative value (NumPy treats any negative as -1)",
    "slice_repeated_axis": "the spec leaves a repeated axis undefined; ONNX Runtime rejects it",
}


def case(name, op, attrs, shapes, onnx_op, consts=(), onnx_attrs=None):
    rng = np.random.default_rng(len(CASES) + 1)
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    y = run_onnx(onnx_op, inputs, list(consts), onnx_attrs or {})
    entry = {"name": name, "op": op, "attrs": attrs,
             "inputs": [{"shape": list(a.shape), "data": a.ravel().tolist()} for a in inputs]}
    if name in SPEC_REJECTS:
        assert y is not None, f"{name}: onnx.reference now rejects it; drop it from SPEC_REJECTS"
        entry["error"] = True
        entry["note"] = SPEC_REJECTS[name]
    elif y is None:
        entry["error"] = True
    else:
        y = np.asarray(y, dtype=np.float32)
        entry["expected"] = {"shape": list(y.shape), "data": y.ravel().tolist()}
    CASES.append(entry)


def reshape(name, x, shape, allowzero=0):
    case(name, "reshape", {"shape": shape, "allowZero": bool(allowzero)}, [x], "Reshape", [("shape", shape)],
         {"allowzero": allowzero})


def slice_(name, x, starts, ends, axes=None, steps=None):
    n = len(starts)
    ir_axes = axes if axes is not None else list(range(n))
    ir_steps = steps if steps is not None else [1] * n
    case(name, "slice", {"starts": starts, "ends": ends, "axes": ir_axes, "steps": ir_steps}, [x], "Slice",
         [("starts", starts), ("ends", ends), ("axes", axes), ("steps", steps)])


def gather(name, x, indices, axis=0):
    idx = np.array(indices, dtype=np.int64)
    case(name, "gather", {"axis": axis, "indices": idx.ravel().tolist(), "indicesShape": list(idx.shape)}, [x],
         "Gather", [("indices", idx)], {"axis": axis})


def main(argv):
    reshape("reshape_copy_zero", (2, 3, 4), [0, -1])
    reshape("reshape_zero_middle", (2, 3, 4), [2, 0, 2, 2])
    reshape("reshape_infer_first", (2, 3, 4), [-1, 6])
    reshape("reshape_flat", (2, 3, 4), [-1])
    reshape("reshape_add_ones", (6,), [1, 6, 1])
    reshape("reshape_allowzero_real_zero", (0, 3), [3, 0], allowzero=1)
    reshape("reshape_zero_copies_empty_dim", (0, 3), [0, 3, 1])
    reshape("reshape_to_scalar", (1, 1), [])
    reshape("reshape_bad_count", (2, 3), [4, 2])
    reshape("reshape_two_inferred", (2, 3), [-1, -1])
    reshape("reshape_allowzero_with_inferred", (2, 3), [0, -1], allowzero=1)
    reshape("reshape_zero_beyond_rank", (6,), [2, 0, 3])
    reshape("reshape_below_minus_one", (6,), [-2, 3])

    slice_("slice_basic", (5, 6), [1, 2], [4, 5])
    slice_("slice_negative_start", (7,), [-3], [INT64_MAX])
    slice_("slice_negative_end", (7,), [1], [-1])
    slice_("slice_clamp_huge_end", (4, 5), [0], [1000], [1])
    slice_("slice_reverse_all", (6,), [-1], [INT64_MIN], [0], [-1])
    slice_("slice_reverse_step2", (7, 3), [INT64_MAX], [-INT64_MAX], [0], [-2])
    slice_("slice_negative_step_window", (8,), [5], [1], [0], [-2])
    slice_("slice_step3", (10, 2), [1], [10], [0], [3])
    slice_("slice_negative_axes", (3, 4, 5), [1, 0], [3, 2], [-1, -3])
    slice_("slice_empty_result", (5,), [3], [2])
    slice_("slice_empty_negative_step", (5,), [1], [3], [0], [-1])
    slice_("slice_start_past_end", (5,), [10], [20])
    slice_("slice_negative_start_clamped", (5,), [-10], [2])
    slice_("slice_zero_size_dim", (0, 3), [0], [5], [0], [-1])
    slice_("slice_three_axes_mixed_steps", (4, 5, 6), [3, 0, -1], [0, 5, 0], [0, 1, 2], [-1, 2, -2])
    slice_("slice_step_zero", (5,), [0], [5], [0], [0])
    slice_("slice_repeated_axis", (5, 5), [0, 1], [2, 3], [1, 1])

    gather("gather_axis0", (5, 3), [0, 4, 2])
    gather("gather_negative_indices", (5, 3), [-1, -5, 1], axis=0)
    gather("gather_scalar_index", (4, 6), 2, axis=1)
    gather("gather_scalar_negative", (4, 6), -1, axis=0)
    gather("gather_2d_indices", (3, 5, 2), [[0, 1], [4, -2]], axis=1)
    gather("gather_negative_axis", (2, 3, 4), [3, 0], axis=-1)
    gather("gather_repeated", (3,), [1, 1, 1, 0], axis=0)
    gather("gather_empty_indices", (3, 4), np.zeros((0,), dtype=np.int64), axis=1)
    gather("gather_out_of_range", (3, 4), [3], axis=0)
    gather("gather_negative_out_of_range", (3, 4), [-5], axis=1)

    def squeeze(name, x, axes):
        case(name, "squeeze", {"axes": axes or []}, [x], "Squeeze", [("axes", axes)])

    def unsqueeze(name, x, axes):
        case(name, "unsqueeze", {"axes": axes}, [x], "Unsqueeze", [("axes", axes)])

    squeeze("squeeze_all", (1, 3, 1, 4, 1), None)
    squeeze("squeeze_axes", (1, 3, 1, 4), [0, 2])
    squeeze("squeeze_negative_axes", (2, 1, 3, 1), [-1, -3])
    squeeze("squeeze_to_scalar", (1, 1), None)
    squeeze("squeeze_non_one", (2, 3), [0])
    unsqueeze("unsqueeze_front", (3, 4), [0])
    unsqueeze("unsqueeze_negative", (3, 4), [-1])
    unsqueeze("unsqueeze_several_unsorted", (3, 4), [4, 0, -3])
    unsqueeze("unsqueeze_negative_duplicate", (3, 4), [3, -2])
    unsqueeze("unsqueeze_scalar", (), [0])
    unsqueeze("unsqueeze_out_of_range", (3,), [3])
    unsqueeze("unsqueeze_repeated", (3,), [0, 0])

    def transpose(name, x, perm):
        case(name, "transpose", {"permutation": perm or []}, [x], "Transpose", [], {"perm": perm} if perm else {})

    transpose("transpose_nchw_nhwc", (2, 3, 4, 5), [0, 2, 3, 1])
    transpose("transpose_default_reverses", (2, 3, 4), None)
    transpose("transpose_2d", (5, 7), [1, 0])
    transpose("transpose_identity", (2, 3), [0, 1])
    transpose("transpose_5d", (2, 1, 3, 2, 2), [4, 2, 0, 3, 1])

    def matmul(name, a, b):
        case(name, "matmul", {}, [a, b], "MatMul")

    matmul("matmul_2d", (3, 4), (4, 5))
    matmul("matmul_1d_1d", (4,), (4,))
    matmul("matmul_1d_2d", (4,), (4, 3))
    matmul("matmul_2d_1d", (3, 4), (4,))
    matmul("matmul_1d_3d", (4,), (2, 4, 3))
    matmul("matmul_3d_1d", (2, 3, 4), (4,))
    matmul("matmul_batch_broadcast", (2, 1, 3, 4), (5, 4, 2))
    matmul("matmul_batch_2d_rhs", (3, 5, 7), (7, 9))
    matmul("matmul_tiles", (2, 13, 35), (35, 19))
    matmul("matmul_inner_mismatch", (3, 4), (5, 2))
    matmul("matmul_batch_mismatch", (2, 3, 4), (3, 4, 2))

    def binary(name, onnx_op, a, b):
        case(name, "binary", {"operator": onnx_op.lower()}, [a, b], onnx_op)

    binary("sub_broadcast", "Sub", (2, 3, 4), (3, 1))
    binary("mul_broadcast_rank0", "Mul", (2, 3), ())
    binary("div_broadcast_middle", "Div", (2, 1, 4), (3, 1))

    def concat(name, shapes, axis):
        case(name, "concat", {"axis": axis}, shapes, "Concat", [], {"axis": axis})

    concat("concat_negative_axis", [(2, 3), (2, 5)], -1)
    concat("concat_three", [(1, 2, 2), (3, 2, 2), (2, 2, 2)], 0)

    def reduce_mean(name, x, axes, keepdims):
        case(name, "reduceMean", {"axes": axes or [], "keepDims": bool(keepdims)}, [x], "ReduceMean",
             [("axes", axes)], {"keepdims": keepdims})

    reduce_mean("reducemean_spatial", (2, 3, 4, 5), [2, 3], 1)
    reduce_mean("reducemean_spatial_drop", (2, 3, 4, 5), [-1, -2], 0)
    reduce_mean("reducemean_all", (2, 3, 4), None, 0)
    reduce_mean("reducemean_all_keep", (2, 3), None, 1)
    reduce_mean("reducemean_outer_inner", (2, 3, 4), [0, 2], 1)
    reduce_mean("reducemean_middle", (2, 3, 4, 2), [1, 2], 0)
    reduce_mean("reducemean_repeated_axis", (2, 3), [1, -1], 1)

    def softmax(name, x, axis, log=False):
        case(name, "softmax", {"axis": axis, "log": log}, [x], "LogSoftmax" if log else "Softmax", [], {"axis": axis})

    softmax("softmax_axis_middle", (2, 3, 4), 1)
    softmax("softmax_axis_negative", (2, 3, 4), -1)
    softmax("logsoftmax_axis0", (5, 3), 0, log=True)

    case("hardsigmoid_onnx_default", "hardSigmoid", {"alpha": 0.2, "beta": 0.5}, [(3, 7)], "HardSigmoid", [],
         {"alpha": 0.2, "beta": 0.5})
    case("hardsigmoid_custom", "hardSigmoid", {"alpha": 0.7, "beta": -0.1}, [(20,)], "HardSigmoid", [],
         {"alpha": 0.7, "beta": -0.1})

    body = json.dumps({"generator": "Tools/gen_onnx_op_fixtures.py", "onnx": onnx.__version__, "cases": CASES},
                      indent=None, separators=(",", ":")) + "\n"
    if "--check" in argv:
        assert OUT.read_text() == body, "onnx_ops.json differs from what onnx.reference says now"
    else:
        OUT.write_text(body)
    print(f"onnx ops: {len(CASES)} cases ({sum('error' in c for c in CASES)} rejections)")


if __name__ == "__main__":
    main(sys.argv[1:])
