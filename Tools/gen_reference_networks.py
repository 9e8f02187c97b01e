#!/usr/bin/env python3
"""Builds the reference networks of issue 5 from their PyTorch/torchvision definitions and writes,
for each: NAME.convnet (translated from the torch.fx graph, node names = state_dict prefixes),
NAME.npz (the state_dict), NAME.onnx (torch.onnx.export), NAME.input.npy and NAME.expected.npy
(PyTorch's output in eval mode, float32). Weights are seeded and random, BatchNorm statistics
randomised so that folding them is exercised; nothing is downloaded.

    /work/venv/bin/python Tools/gen_reference_networks.py OUT_DIR [--size full|reduced] [--only a,b]
        [--opset 17]

`reduced` (the committed test variants in Tests/ConvRTTests/Fixtures/networks) keeps every
network's layer structure with fewer channels and smaller inputs; `full` is the real size
(ResNet-18 and MobileNetV2 at 1x3x224x224, tens of MB: not committed).
Needs torch and torchvision (pip install torchvision pillow).
"""
import argparse
import operator
import os
import sys

import numpy as np
import torch
import torch.fx
import torch.nn as nn
import torch.nn.functional as F


# MARK: Networks

class BasicBlock(nn.Module):
    """torchvision's ResNet BasicBlock, for any rank (same module names, so the same state_dict keys)."""

    def __init__(self, rank, cin, planes, stride):
        super().__init__()
        conv, bn = {2: (nn.Conv2d, nn.BatchNorm2d), 3: (nn.Conv3d, nn.BatchNorm3d)}[rank]
        self.conv1 = conv(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = bn(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = bn(planes)
        self.downsample = None
        if stride != 1 or cin != planes:
            self.downsample = nn.Sequential(conv(cin, planes, 1, stride, bias=False), bn(planes))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """torchvision.models.resnet18's layout with a width parameter (64 = the real ResNet-18)."""

    def __init__(self, width=64, classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        c = width
        for i, stride in enumerate([1, 2, 2, 2]):
            planes = width * 2 ** i
            setattr(self, f"layer{i + 1}", nn.Sequential(BasicBlock(2, c, planes, stride), BasicBlock(2, planes, planes, 1)))
            c = planes
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class R3D(nn.Module):
    """torchvision.models.video.r3d_18's layout (BasicStem, Conv3DSimple blocks) with a width parameter."""

    def __init__(self, width=64, classes=400):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv3d(3, width, (3, 7, 7), (1, 2, 2), (1, 3, 3), bias=False),
                                  nn.BatchNorm3d(width), nn.ReLU(inplace=True))
        c = width
        for i, stride in enumerate([1, 2, 2, 2]):
            planes = width * 2 ** i
            setattr(self, f"layer{i + 1}", nn.Sequential(BasicBlock(3, c, planes, stride), BasicBlock(3, planes, planes, 1)))
            c = planes
        self.avgpool = nn.AdaptiveAvgPool3d((1, 1, 1))
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        x = self.layer4(self.layer3(self.layer2(self.layer1(self.stem(x)))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def double_conv(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class UNet(nn.Module):
    """The U-Net of Ronneberger et al. with padded convolutions (as in milesial/Pytorch-UNet):
    upsampling by ConvTranspose2d (`transposed`) or by bilinear Upsample + a 1x1 conv."""

    def __init__(self, width=64, depth=4, transposed=True, classes=2):
        super().__init__()
        self.transposed = transposed
        self.inc = double_conv(3, width)
        self.downs = nn.ModuleList()
        c = width
        for _ in range(depth):
            self.downs.append(nn.Sequential(nn.MaxPool2d(2), double_conv(c, 2 * c)))
            c *= 2
        self.ups, self.convs = nn.ModuleList(), nn.ModuleList()
        for _ in range(depth):
            if transposed:
                self.ups.append(nn.ConvTranspose2d(c, c // 2, 2, stride=2))
            else:
                self.ups.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                                              nn.Conv2d(c, c // 2, 1)))
            self.convs.append(double_conv(c, c // 2))
            c //= 2
        self.outc = nn.Conv2d(c, classes, 1)

    def forward(self, x):
        skips = [self.inc(x)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        x = skips.pop()
        for up, conv in zip(self.ups, self.convs):
            x = conv(torch.cat([skips.pop(), up(x)], dim=1))
        return self.outc(x)


class TemporalBlock(nn.Module):
    """A residual block of a dilated causal temporal conv net (Bai et al. 2018): left zero padding
    keeps it causal."""

    def __init__(self, cin, cout, kernel, dilation):
        super().__init__()
        pad = (kernel - 1) * dilation
        self.pad1 = nn.ZeroPad1d((pad, 0))
        self.conv1 = nn.Conv1d(cin, cout, kernel, dilation=dilation)
        self.relu1 = nn.ReLU()
        self.dropout1 = nn.Dropout(0.2)
        self.pad2 = nn.ZeroPad1d((pad, 0))
        self.conv2 = nn.Conv1d(cout, cout, kernel, dilation=dilation)
        self.relu2 = nn.ReLU()
        self.dropout2 = nn.Dropout(0.2)
        self.downsample = nn.Conv1d(cin, cout, 1) if cin != cout else None
        self.relu = nn.ReLU()

    def forward(self, x):
        out = self.dropout1(self.relu1(self.conv1(self.pad1(x))))
        out = self.dropout2(self.relu2(self.conv2(self.pad2(out))))
        res = x if self.downsample is None else self.downsample(x)
        return self.relu(out + res)


class TCN(nn.Module):
    def __init__(self, cin=16, width=64, levels=6, kernel=3, classes=10):
        super().__init__()
        self.blocks = nn.Sequential(*[TemporalBlock(cin if i == 0 else width, width, kernel, 2 ** i) for i in range(levels)])
        self.head = nn.Conv1d(width, classes, 1)

    def forward(self, x):
        return F.log_softmax(self.head(self.blocks(x)), dim=1)


def mobilenet_v2(width_mult, classes=1000):
    from torchvision.models import mobilenet_v2 as tv_mobilenet_v2
    return tv_mobilenet_v2(width_mult=width_mult, num_classes=classes)


def resnet18_torchvision():
    from torchvision.models import resnet18
    return resnet18()


class LayerTracer(torch.fx.Tracer):
    """Keeps subclasses of torch.nn layers (torchvision's Conv3DSimple is an nn.Conv3d) as leaves,
    like the torch.nn layers themselves, instead of tracing into their forward."""

    def is_leaf_module(self, m, qualname):
        leaf_types = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
                      nn.ConvTranspose3d, nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
        return isinstance(m, leaf_types) or super().is_leaf_module(m, qualname)


def r3d_18_torchvision():
    from torchvision.models.video import r3d_18
    return r3d_18()


# name -> (full: (constructor, input shape), reduced: (constructor, input shape))
NETWORKS = {
    "resnet18": ((resnet18_torchvision, [1, 3, 224, 224]), (lambda: ResNet(width=8, classes=10), [1, 3, 64, 64])),
    "mobilenet_v2": ((lambda: mobilenet_v2(1.0), [1, 3, 224, 224]), (lambda: mobilenet_v2(0.25, 10), [1, 3, 64, 64])),
    "unet_transposed": ((lambda: UNet(64, 4, True), [1, 3, 256, 256]), (lambda: UNet(4, 3, True), [1, 3, 48, 48])),
    "unet_bilinear": ((lambda: UNet(64, 4, False), [1, 3, 256, 256]), (lambda: UNet(4, 3, False), [1, 3, 48, 40])),
    "tcn": ((lambda: TCN(16, 64, 8), [1, 16, 16000]), (lambda: TCN(4, 16, 4), [1, 4, 200])),
    "r3d_18": ((r3d_18_torchvision, [1, 3, 16, 112, 112]), (lambda: R3D(width=4, classes=10), [1, 3, 8, 32, 32])),
}


# MARK: .convnet from a torch.fx graph

def dsl(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (tuple, list)):
        return "(" + ", ".join(dsl(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, str):
        return f'"{v}"'
    if v is None:
        return "none"
    return repr(v)


def call(layer, operands, **kwargs):
    args = list(operands) + [f"{k}={dsl(v)}" for k, v in kwargs.items() if v is not None]
    return f"{layer}({', '.join(args)})"


def module_layer(m, operands):
    """The DSL call of a leaf module, with PyTorch's argument names."""
    kind = type(m).__name__
    if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
        rank = len(m.kernel_size)
        name = ("ConvTranspose" if m.transposed else "Conv") + f"{rank}d"
        extra = {}
        if m.transposed and any(m.output_padding):
            extra["output_padding"] = m.output_padding
        if not m.transposed and m.padding_mode != "zeros":
            extra["padding_mode"] = m.padding_mode
        return call(name, operands, in_channels=m.in_channels, out_channels=m.out_channels, kernel_size=m.kernel_size,
                    stride=m.stride, padding=m.padding, dilation=m.dilation, groups=m.groups, bias=m.bias is not None,
                    **extra)
    if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
        return call(kind, operands, num_features=m.num_features, eps=m.eps)
    if isinstance(m, (nn.ReLU, nn.ReLU6, nn.Sigmoid, nn.Tanh, nn.SiLU, nn.Hardswish, nn.Identity)):
        return call(kind, operands)
    if isinstance(m, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)):
        return call(kind, operands, kernel_size=m.kernel_size, stride=m.stride, padding=m.padding, dilation=m.dilation,
                    ceil_mode=m.ceil_mode)
    if isinstance(m, (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)):
        return call(kind, operands, kernel_size=m.kernel_size, stride=m.stride, padding=m.padding, ceil_mode=m.ceil_mode,
                    count_include_pad=m.count_include_pad)
    if isinstance(m, (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d, nn.AdaptiveMaxPool2d)):
        return call(kind, operands, output_size=m.output_size)
    if isinstance(m, nn.Linear):
        return call("Linear", operands, in_features=m.in_features, out_features=m.out_features, bias=m.bias is not None)
    if isinstance(m, nn.Dropout):
        return call("Dropout", operands, p=m.p)
    if isinstance(m, nn.Flatten):
        return call("Flatten", operands, start_dim=m.start_dim, end_dim=m.end_dim)
    if isinstance(m, nn.Upsample):
        return call("Upsample", operands, size=m.size, scale_factor=float(m.scale_factor) if m.scale_factor else None,
                    mode=m.mode, align_corners=m.align_corners)
    if isinstance(m, nn.ZeroPad1d):
        return call("ZeroPad1d", operands, padding=m.padding)
    raise SystemExit(f"error: no DSL translation for module {kind}")


def function_layer(target, operands, args, kwargs):
    if target in (operator.add, torch.add):
        return call("Add", operands)
    if target in (operator.mul, torch.mul):
        return call("Mul", operands)
    if target is torch.flatten:
        start = args[1] if len(args) > 1 else kwargs.get("start_dim", 0)
        return call("Flatten", operands, start_dim=start)
    if target is torch.cat:
        return call("Concat", operands, dim=kwargs.get("dim", args[1] if len(args) > 1 else 0))
    if target is F.relu:
        return call("ReLU", operands)
    if target is F.log_softmax:
        return call("LogSoftmax", operands, dim=kwargs.get("dim", args[1] if len(args) > 1 else None))
    if target is F.adaptive_avg_pool2d:
        size = args[1] if len(args) > 1 else kwargs["output_size"]
        return call("AdaptiveAvgPool2d", operands, output_size=size)
    raise SystemExit(f"error: no DSL translation for function {target}")


def to_convnet(model, shape, weights_file, title):
    gm = torch.fx.GraphModule(model, LayerTracer().trace(model))
    lines = [f"# {title}", "# Generated by Tools/gen_reference_networks.py; DO NOT EDIT.",
             f"input x: [{', '.join(map(str, shape))}]", f'weights "{weights_file}"']
    names, used = {}, set()

    def fresh(base):
        name, i = base, 1
        while name in used:
            name, i = f"{base}_{i}", i + 1
        used.add(name)
        return name

    output = None
    for node in gm.graph.nodes:
        def operand_names(a):
            if isinstance(a, torch.fx.Node):
                return [names[a]]
            if isinstance(a, (list, tuple)):
                return [n for x in a for n in operand_names(x)]
            return []
        operands = [n for a in node.args for n in operand_names(a)]
        if node.op == "placeholder":
            names[node] = "x"
            used.add("x")
        elif node.op == "call_module":
            m = gm.get_submodule(node.target)
            has_params = any(True for _ in m.parameters(recurse=False)) or any(True for _ in m.buffers(recurse=False))
            # Parameterised modules keep their state_dict prefix; stateless ones may be reused (a block's ReLU).
            name = node.target if has_params else fresh(node.target)
            if has_params:
                used.add(name)
            names[node] = name
            lines.append(f"{name} = {module_layer(m, operands)}")
        elif node.op in ("call_function", "call_method"):
            target = node.target
            if node.op == "call_method":
                target = {"flatten": torch.flatten, "relu": F.relu}.get(target, target)
            # Named after the module that calls it (`layer1.0.add`), else fx's name (`flatten`).
            stack = list(node.meta.get("nn_module_stack", {}).values())
            base = node.name.rstrip("_0123456789") or node.name
            name = fresh(f"{stack[-1][0]}.{base}" if stack and stack[-1][0] else node.name)
            names[node] = name
            lines.append(f"{name} = {function_layer(target, operands, node.args, node.kwargs)}")
        elif node.op == "output":
            output = operand_names(node.args[0])
        else:
            raise SystemExit(f"error: unexpected fx node {node.op} {node.target}")
    lines.append(f"output {', '.join(output)}")
    return "\n".join(lines) + "\n"


# MARK: Weights, export, outputs

def randomise(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) * 0.5 + 0.75)
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) * 0.5 + 0.75)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)


def write(name, constructor, shape, out, opset, seed=0):
    torch.manual_seed(seed)
    model = constructor().eval()
    randomise(model, seed + 1)
    x = torch.rand(shape, generator=torch.Generator().manual_seed(seed + 2)) * 2 - 1
    with torch.no_grad():
        y = model(x)
    base = os.path.join(out, name)
    state = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()
             if v.dtype.is_floating_point}
    np.savez(base + ".npz", **state)
    with open(base + ".convnet", "w") as f:
        f.write(to_convnet(model, shape, name + ".npz", f"{name}: {type(model).__name__}, input {shape}"))
    np.save(base + ".input.npy", x.numpy())
    np.save(base + ".expected.npy", y.numpy())
    torch.onnx.export(model, (x,), base + ".onnx", input_names=["x"], output_names=["y"], opset_version=opset,
                      dynamo=False)
    params = sum(p.numel() for p in model.parameters())
    print(f"{name}: {params / 1e6:.2f} M parameters, output {list(y.shape)}, max|y| {y.abs().max():.3f}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--size", choices=["full", "reduced"], default="reduced")
    p.add_argument("--only", help="comma-separated names: " + ",".join(NETWORKS))
    p.add_argument("--opset", type=int, default=17)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    names = a.only.split(",") if a.only else list(NETWORKS)
    for name in names:
        if name not in NETWORKS:
            sys.exit(f"error: unknown network '{name}'; known: {', '.join(NETWORKS)}")
        full, reduced = NETWORKS[name]
        constructor, shape = full if a.size == "full" else reduced
        write(name, constructor, shape, a.out, a.opset)


if __name__ == "__main__":
    main()
