"""Reference outputs for tests/lm_parity.rs, computed by Hugging Face transformers and PEFT.

Builds a tiny random GPT-2 from a config (no downloads), saves it with save_pretrained, puts a PEFT
LoRA adapter with nonzero A and B on it and saves that too, then writes the logits and the loss of
a fixed token sequence under the base, the adapter, and the adapter merged by PEFT
(merge_and_unload) as JSON. The adapter's base_model_name_or_path is the sha256 of the saved
model.safetensors, as Arena's adapters carry it.

usage: python gpt2_parity.py OUT_DIR   (writes OUT_DIR/{base,adapter,parity.json})

The other direction: python gpt2_parity.py --load BASE_DIR ADAPTER_DIR TOKENS_JSON OUT_JSON loads a
model and adapter that Arena wrote (GPT2LMHeadModel.from_pretrained, PeftModel.from_pretrained)
and writes the logits and loss of the sequence in TOKENS_JSON ({"tokens": [...], "targets":
[...]}) under the adapter.
"""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no hub look-ups (PEFT checks the base's name)

import hashlib
import json
import sys

import peft
import torch
import transformers
from tiny_gpt2 import tiny_gpt2_config

if sys.argv[1] == "--load":
    base_dir, adapter_dir, tokens_json, out_json = sys.argv[2:6]
    with open(tokens_json) as f:
        seq = json.load(f)
    model = transformers.GPT2LMHeadModel.from_pretrained(base_dir, attn_implementation="eager").to(torch.float32)
    pm = peft.PeftModel.from_pretrained(model, adapter_dir)
    pm.eval()
    with torch.no_grad():
        logits = pm(input_ids=torch.tensor([seq["tokens"]])).logits[0].to(torch.float32)
    loss = torch.nn.functional.cross_entropy(logits.double(), torch.tensor(seq["targets"])).item()
    with open(out_json, "w") as f:
        json.dump({"logits": logits.flatten().tolist(), "loss": loss}, f)
    sys.exit(0)

out = sys.argv[1]
torch.manual_seed(7)
config = tiny_gpt2_config(vocab_size=256)  # the byte vocabulary
model = transformers.GPT2LMHeadModel(config).to(torch.float32)
model.config._attn_implementation = "eager"
with torch.no_grad():
    # Biases and LayerNorm parameters away from 0 and 1, so every path is exercised.
    for name, p in model.named_parameters():
        if name.endswith("bias"):
            p.copy_(0.1 * torch.randn_like(p))
        elif ".ln_" in name and name.endswith("weight"):
            p.copy_(1.0 + 0.2 * torch.randn_like(p))
    for block in model.transformer.h:
        block.attn.c_attn.weight.mul_(5.0)
model.eval()

base_dir = os.path.join(out, "base")
model.save_pretrained(base_dir, safe_serialization=True)
with open(os.path.join(base_dir, "model.safetensors"), "rb") as f:
    base_sha = hashlib.sha256(f.read()).hexdigest()

seq = [(i * 37 + 11) % 256 for i in range(config.n_positions + 1)]
tokens, targets = seq[:-1], seq[1:]
x = torch.tensor([tokens])
y = torch.tensor(targets)


def run(m):
    with torch.no_grad():
        logits = m(input_ids=x).logits[0].to(torch.float32)
    loss = torch.nn.functional.cross_entropy(logits.double(), y).item()
    return {"logits": logits.flatten().tolist(), "loss": loss}


results = {"tokens": tokens, "targets": targets, "vocab": config.vocab_size, "base_sha256": base_sha}
results["base"] = run(model)

# "c_proj" matches both attn.c_proj and mlp.c_proj under PEFT's suffix rule, as intended here.
lora = peft.LoraConfig(
    r=4,
    lora_alpha=8,
    target_modules=["c_attn", "c_proj"],
    fan_in_fan_out=True,
    lora_dropout=0.0,
    bias="none",
    task_type="CAUSAL_LM",
)
pm = peft.get_peft_model(model, lora)
with torch.no_grad():
    for name, p in pm.named_parameters():
        if "lora_B" in name:
            p.copy_(0.2 * torch.randn_like(p))
pm.eval()
pm.peft_config["default"].base_model_name_or_path = base_sha
results["adapter"] = run(pm)
pm.save_pretrained(os.path.join(out, "adapter"))
results["merged"] = run(pm.merge_and_unload())
results["versions"] = {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__}
with open(os.path.join(out, "parity.json"), "w") as f:
    json.dump(results, f)
