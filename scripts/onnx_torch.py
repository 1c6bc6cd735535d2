#!/usr/bin/env python3
"""Run a lepton ONNX export with PyTorch's operators, as an independent reference.

Reads the model with the onnx package and evaluates its graph node by node
with torch: Sub, Div, Gemm, Relu, LeakyRelu (torch.nn.functional.leaky_relu
with the node's alpha), Tanh, Sigmoid, Softmax; any other op is an error.
Debian's python3-onnx (1.12) has no reference evaluator, and gonnx lacks
LeakyRelu, so this checks the exported LeakyRelu nodes against PyTorch's
implementation rather than one written in lepton's tests.

Usage:
  python3 scripts/onnx_torch.py INPUT.f32 N MODEL.onnx OUTPUT.json [MODEL.onnx OUTPUT.json ...]

INPUT.f32 holds N x 3072 little-endian float32 pixels (byte/255, planar);
each OUTPUT.json gets {"logits": [[...]...], "probabilities": [[...]...]}.
Needs python3-onnx and python3-torch (Debian) or pip install onnx torch.
"""

import json
import sys

try:
    import onnx
    from onnx import numpy_helper
    import torch
    import torch.nn.functional as F
except ImportError as e:
    sys.exit(f"missing Python module: {e.name} (apt-get install python3-onnx python3-torch)")


def attr(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def gemm(node, a, b, c=None):
    alpha, beta = attr(node, "alpha", 1.0), attr(node, "beta", 1.0)
    if attr(node, "transA", 0):
        a = a.t()
    if attr(node, "transB", 0):
        b = b.t()
    y = alpha * (a @ b)
    return y + beta * c if c is not None else y


OPS = {
    "Sub": lambda n, a, b: a - b,
    "Div": lambda n, a, b: a / b,
    "Mul": lambda n, a, b: a * b,
    "Add": lambda n, a, b: a + b,
    "Gemm": gemm,
    "Relu": lambda n, x: torch.relu(x),
    "LeakyRelu": lambda n, x: F.leaky_relu(x, negative_slope=attr(n, "alpha", 0.01)),
    "Tanh": lambda n, x: torch.tanh(x),
    "Sigmoid": lambda n, x: torch.sigmoid(x),
    "Softmax": lambda n, x: torch.softmax(x, dim=attr(n, "axis", -1)),
}


def run(model_path, x, output_path):
    model = onnx.load(model_path)
    onnx.checker.check_model(model)
    g = model.graph
    values = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in g.initializer}
    values[g.input[0].name] = x
    with torch.no_grad():
        for node in g.node:
            if node.op_type not in OPS:
                sys.exit(f"{model_path}: op {node.op_type} is not supported here")
            values[node.output[0]] = OPS[node.op_type](node, *[values[i] for i in node.input])
    out = {o.name: values[o.name].double().tolist() for o in g.output}
    with open(output_path, "w") as f:
        json.dump(out, f)


def main():
    if len(sys.argv) < 5 or len(sys.argv) % 2 != 1:
        sys.exit(__doc__)
    input_path, n = sys.argv[1], int(sys.argv[2])
    with open(input_path, "rb") as f:
        x = torch.frombuffer(bytearray(f.read()), dtype=torch.float32).reshape(n, -1)
    for model_path, output_path in zip(sys.argv[3::2], sys.argv[4::2]):
        run(model_path, x, output_path)


if __name__ == "__main__":
    main()
