"""For TorchInteropTest: bits per dimension and reconstruction error of woodflow checkpoints in woodflow_torch.

Arguments: pairs CHECKPOINT INPUTS (a safetensors file with the dequantised batch "x", or, for a model with a
variational dequantiser, the centred images "centred" and their noise "noise"). Prints one JSON object per
pair: {"bpd": [...], "recon": max |decode(encode(x)) - x| in float32, "recon64": the same with the model and x in
float64 (which shows the inverse is exact, whatever float32's conditioning)}.
"""
import json
import sys

import torch

import woodflow_torch
from woodflow_torch import safetensors

torch.set_num_threads(1)
args = sys.argv[1:]
for ckpt, inputs in zip(args[0::2], args[1::2]):
    model = woodflow_torch.load(ckpt)
    tensors = safetensors.read(inputs)[0]
    with torch.no_grad():
        if "noise" in tensors:  # a variational dequantiser: centred images and their N(0, I) draw
            x, log_q = model.dequantize(torch.from_numpy(tensors["centred"]), torch.from_numpy(tensors["noise"]))
            bpd = model.bits_per_dim(x, log_q=log_q)
        else:
            x = torch.from_numpy(tensors["x"])
            bpd = model.bits_per_dim(x)
        recon = (model.decode(model.encode(x)) - x).abs().max().item()
        model64, x64 = model.double(), x.double()
        recon64 = (model64.decode(model64.encode(x64)) - x64).abs().max().item()
    print(json.dumps({"bpd": bpd.tolist(), "recon": recon, "recon64": recon64}))
