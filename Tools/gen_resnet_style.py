#!/usr/bin/env python3
"""Writes a ResNet-style .convnet (stem, basic blocks with BatchNorm and ReLU, strided blocks
with 1x1 downsample shortcuts) for planner and benchmark runs. No weights file: convrt's
seeded init fills the parameters, so no PyTorch is needed.

Usage: Tools/gen_resnet_style.py OUT.convnet [--width 32] [--size 56] [--stages 3] [--blocks 2]
"""
import argparse


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--width", type=int, default=32, help="channels of the first stage")
    p.add_argument("--size", type=int, default=56, help="input height and width")
    p.add_argument("--stages", type=int, default=3)
    p.add_argument("--blocks", type=int, default=2, help="basic blocks per stage")
    a = p.parse_args()

    lines = [f"# ResNet-style net written by Tools/gen_resnet_style.py",
             f"input x: [N, 3, {a.size}, {a.size}]",
             f"stem = Conv2d(x, in_channels=3, out_channels={a.width}, kernel_size=3, padding=1, bias=false)",
             f"stem.bn = BatchNorm2d(stem, num_features={a.width})",
             f"stem.relu = ReLU(stem.bn)"]
    x, c = "stem.relu", a.width
    for s in range(a.stages):
        for b in range(a.blocks):
            name = f"layer{s + 1}.{b}"
            down = s > 0 and b == 0
            out = 2 * c if down else c
            stride = 2 if down else 1
            lines += [
                f"{name}.conv1 = Conv2d({x}, in_channels={c}, out_channels={out}, kernel_size=3, stride={stride}, padding=1, bias=false)",
                f"{name}.bn1 = BatchNorm2d({name}.conv1, num_features={out})",
                f"{name}.relu1 = ReLU({name}.bn1)",
                f"{name}.conv2 = Conv2d({name}.relu1, in_channels={out}, out_channels={out}, kernel_size=3, padding=1, bias=false)",
                f"{name}.bn2 = BatchNorm2d({name}.conv2, num_features={out})",
            ]
            shortcut = x
            if down:
                lines += [
                    f"{name}.downsample.0 = Conv2d({x}, in_channels={c}, out_channels={out}, kernel_size=1, stride=2, bias=false)",
                    f"{name}.downsample.1 = BatchNorm2d({name}.downsample.0, num_features={out})",
                ]
                shortcut = f"{name}.downsample.1"
            lines += [f"{name}.add = Add({name}.bn2, {shortcut})", f"{name}.relu = ReLU({name}.add)"]
            x, c = f"{name}.relu", out
    lines.append(f"output {x}")
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
