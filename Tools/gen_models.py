#!/usr/bin/env python3
"""Regenerates the example models in Models/ (deterministic: rerunning changes no byte).

    /work/venv/bin/python Tools/gen_models.py            # write + verify
    /work/venv/bin/python Tools/gen_models.py --check    # verify the committed files only

For each model: `<model>.convnet`, its weights `<model>.npz` (state_dict keys; MegEngine layouts
for layers with conv_mode=...), a sample input `<model>.input.npy` and PyTorch's output for it,
`<model>.expected.npy` (float64 run of the float32 weights/input, rounded to float32). The `.pb`
files are made from these with the convrt binary, not here.
"""
from __future__ import annotations

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from gen_fixtures import Layer, Model, ROOT, realize, save_npy, save_npz, verify_case  # noqa: E402

MODELS = ROOT / "Models"


def audio1d() -> tuple[Model, dict, str]:
    """WaveNet-like dilated 1-D stack: dilations 1, 2, 4, 8 with residual adds, then a strided conv."""
    layers = [
        Layer("frontend.conv", "Conv1d", ["wav"], dict(in_channels=1, out_channels=16, kernel_size=7, padding=3)),
        Layer("frontend.act", "ReLU", ["frontend.conv"]),
    ]
    prev = "frontend.act"
    for i, d in enumerate((1, 2, 4, 8)):
        # Blocks 0-2 pad explicitly by d; block 3 uses 'same' with reflect padding (same length).
        pad = dict(padding=d) if i < 3 else dict(padding="same", padding_mode="reflect")
        layers += [
            Layer(f"blocks.{i}.conv", "Conv1d", [prev], dict(in_channels=16, out_channels=16, kernel_size=3,
                                                              dilation=d, **pad)),
            Layer(f"blocks.{i}.act", "ReLU", [f"blocks.{i}.conv"]),
            Layer(f"blocks.{i}.res", "Add", [f"blocks.{i}.act", prev]),
        ]
        prev = f"blocks.{i}.res"
    layers += [
        Layer("down.conv", "Conv1d", [prev], dict(in_channels=16, out_channels=8, kernel_size=4, stride=4)),
        Layer("down.act", "ReLU", ["down.conv"]),
        Layer("head.conv", "Conv1d", ["down.act"], dict(in_channels=8, out_channels=4, kernel_size=1)),
    ]
    model = Model([("wav", ["N", 1, 4000])], layers, ["head.conv"])
    return model, {"wav": (1, 1, 4000)}, "audio1d: dilated 1-D conv stack (dilations 1,2,4,8), residual adds, stride-4 downsampling"


def lazy2d() -> tuple[Model, dict, str]:
    """Lazy convs, a transposed conv and an overlapping Unfold/Fold round trip."""
    layers = [
        Layer("stem.conv", "Conv2d", ["x"], dict(in_channels=3, out_channels=8, kernel_size=3, padding=1)),
        Layer("stem.act", "ReLU", ["stem.conv"]),
        Layer("body.conv", "LazyConv2d", ["stem.act"], dict(out_channels=8, kernel_size=(3, 3), padding="same",
                                                             padding_mode="reflect")),
        Layer("body.act", "ReLU", ["body.conv"]),
        Layer("body.res", "Add", ["body.act", "stem.act"]),
        Layer("up.deconv", "ConvTranspose2d", ["body.res"], dict(in_channels=8, out_channels=4, kernel_size=4,
                                                                   stride=2, padding=1)),
        Layer("patches.unfold", "Unfold", ["up.deconv"], dict(kernel_size=3, padding=1)),
        Layer("patches.act", "ReLU", ["patches.unfold"]),
        Layer("patches.fold", "Fold", ["patches.act"], dict(output_size=(64, 64), kernel_size=3, padding=1)),
        Layer("head.conv", "LazyConv2d", ["patches.fold"], dict(out_channels=2, kernel_size=3, stride=2, padding=1,
                                                                 padding_mode="replicate")),
    ]
    model = Model([("x", [1, 3, 32, 32])], layers, ["head.conv"])
    return model, {"x": (1, 3, 32, 32)}, "lazy2d: LazyConv2d (reflect 'same'), ConvTranspose2d, overlapping Unfold/Fold"


def grouped3d() -> tuple[Model, dict, str]:
    """Grouped and depthwise 3-D convs with MegEngine weight layouts, then a transposed 3-D conv."""
    mge = dict(conv_mode="cross_correlation")
    layers = [
        Layer("stem.conv", "Conv3d", ["vol"], dict(in_channels=8, out_channels=16, kernel_size=3, padding=1,
                                                    groups=4, **mge)),
        Layer("stem.act", "ReLU", ["stem.conv"]),
        Layer("dw.conv", "Conv3d", ["stem.act"], dict(in_channels=16, out_channels=16, kernel_size=3, padding=1,
                                                       groups=16, **mge)),
        Layer("dw.act", "ReLU", ["dw.conv"]),
        Layer("dw.res", "Add", ["dw.act", "stem.act"]),
        Layer("pw.conv", "Conv3d", ["dw.res"], dict(in_channels=16, out_channels=8, kernel_size=1, groups=2, **mge)),
        Layer("up.deconv", "ConvTranspose3d", ["pw.conv"], dict(in_channels=8, out_channels=4, kernel_size=(1, 2, 2),
                                                                  stride=(1, 2, 2))),
    ]
    model = Model([("vol", [1, 8, 8, 16, 16])], layers, ["up.deconv"])
    return model, {"vol": (1, 8, 8, 16, 16)}, "grouped3d: grouped + depthwise Conv3d (MegEngine layouts), ConvTranspose3d"


SEEDS = {"audio1d": 1001, "lazy2d": 1002, "grouped3d": 1003}


def write_model(name: str, model: Model, shapes: dict, title: str) -> dict:
    model.weights = f"{name}.npz"
    header = f"{title}\nGenerated by Tools/gen_models.py; DO NOT EDIT."
    text, weights, inputs, outputs = realize(model, shapes, SEEDS[name], header)
    (MODELS / f"{name}.convnet").write_text(text)
    save_npz(MODELS / f"{name}.npz", weights)
    (input_name,) = inputs
    (output_name,) = outputs
    save_npy(MODELS / f"{name}.input.npy", inputs[input_name].numpy())
    save_npy(MODELS / f"{name}.expected.npy", outputs[output_name].numpy())
    return entry(name, input_name, output_name)


def entry(name: str, input_name: str, output_name: str) -> dict:
    return {"case": name, "weights": f"{name}.npz", "inputs": {input_name: f"{name}.input.npy"},
            "outputs": {output_name: f"{name}.expected.npy"}}


def main(argv: list[str]) -> None:
    MODELS.mkdir(exist_ok=True)
    for name, make in (("audio1d", audio1d), ("lazy2d", lazy2d), ("grouped3d", grouped3d)):
        model, shapes, title = make()
        if "--check" in argv:
            e = entry(name, model.inputs[0][0], model.outputs[0])
        else:
            e = write_model(name, model, shapes, title)
        verify_case(e, MODELS)
        size = sum(f.stat().st_size for f in MODELS.glob(f"{name}.*"))
        print(f"{name}: verified ({size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main(sys.argv[1:])
