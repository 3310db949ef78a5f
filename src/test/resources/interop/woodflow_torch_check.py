"""For TorchInteropTest: bits per dimension and reconstruction error of woodflow checkpoints in woodflow_torch.

Arguments: pairs CHECKPOINT INPUTS (a safetensors file with the dequantised batch "x"). Prints one JSON object per
pair: {"bpd": [...], "recon": max |decode(encode(x)) - x|}.
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
    x = torch.from_numpy(safetensors.read(inputs)[0]["x"])
    with torch.no_grad():
        bpd = model.bits_per_dim(x)
        recon = (model.decode(model.encode(x)) - x).abs().max().item()
    print(json.dumps({"bpd": bpd.tolist(), "recon": recon}))
