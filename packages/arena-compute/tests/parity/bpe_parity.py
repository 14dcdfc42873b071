"""Reference tokens and losses for tests/lm_parity.rs's BPE test, computed by Hugging Face
tokenizers and transformers.

Trains a byte-level BPE like GPT-2's (ByteLevel pre-tokenizer and decoder, the 256-byte initial
alphabet, 512 tokens) on a text file with the `tokenizers` library, builds a tiny random
GPT2LMHeadModel with that vocabulary (no downloads) and saves both as one Hugging Face model
directory (config.json, model.safetensors, tokenizer.json). Then tokenizes a fixed text (the end
of the file with some non-ASCII text inside) and writes, as JSON: the token ids; the logits and
loss of the first window of ctx + 1 tokens; and the mean loss over every whole window of ctx + 1
tokens cut as Arena cuts them (window i = tokens i*ctx ..= (i+1)*ctx), with the targets' count and
UTF-8 bytes (each byte-level token's characters stand for one byte each).

usage: python bpe_parity.py OUT_DIR TEXT_FILE   (writes OUT_DIR/{model/,text.txt,bpe.json})
"""

import json
import os
import sys

import tokenizers
import torch
import transformers
from tiny_gpt2 import tiny_gpt2_config
from tokenizers import decoders, models, pre_tokenizers, processors, trainers

out, text_file = sys.argv[1], sys.argv[2]
model_dir = os.path.join(out, "model")
os.makedirs(model_dir, exist_ok=True)

tok = tokenizers.Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tok.decoder = decoders.ByteLevel()
tok.post_processor = processors.ByteLevel(trim_offsets=False)
trainer = trainers.BpeTrainer(
    vocab_size=512,
    initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    special_tokens=["<|endoftext|>"],
    show_progress=False,
)
tok.train([text_file], trainer)
tok.save(os.path.join(model_dir, "tokenizer.json"))

torch.manual_seed(11)
config = tiny_gpt2_config(
    vocab_size=tok.get_vocab_size(),
    bos_token_id=tok.token_to_id("<|endoftext|>"),
    eos_token_id=tok.token_to_id("<|endoftext|>"),
)
model = transformers.GPT2LMHeadModel(config).to(torch.float32)
model.config._attn_implementation = "eager"
with torch.no_grad():
    # Larger embeddings than GPT-2's 0.02, so the logits depend on which tokens come.
    model.transformer.wte.weight.mul_(5.0)
model.eval()
model.save_pretrained(model_dir, safe_serialization=True)

with open(text_file, encoding="utf-8") as f:
    plays = f.read()
text = plays[-1500:-700] + "Déjà vu — ✓ 日本語, naïve café.\n" + plays[-700:]
with open(os.path.join(out, "text.txt"), "w", encoding="utf-8") as f:
    f.write(text)
ids = tok.encode(text, add_special_tokens=False).ids
ctx = config.n_positions


def logits_of(tokens):
    with torch.no_grad():
        return model(input_ids=torch.tensor(tokens)).logits.to(torch.float32)


first = logits_of([ids[:ctx]])[0]
first_loss = torch.nn.functional.cross_entropy(first.double(), torch.tensor(ids[1 : ctx + 1])).item()

count = (len(ids) - 1) // ctx
windows = [ids[i * ctx : (i + 1) * ctx + 1] for i in range(count)]
logits = logits_of([w[:-1] for w in windows]).double()
targets = torch.tensor([w[1:] for w in windows])
losses = torch.nn.functional.cross_entropy(logits.reshape(-1, config.vocab_size), targets.reshape(-1), reduction="none")
target_ids = [t for w in windows for t in w[1:]]
target_bytes = sum(len(tok.id_to_token(t)) for t in target_ids)

results = {
    "ids": ids,
    "vocab": config.vocab_size,
    "first_window": {"logits": first.flatten().tolist(), "loss": first_loss},
    "windows": {"mean_loss": losses.mean().item(), "targets": len(target_ids), "target_bytes": target_bytes},
    "versions": {"tokenizers": tokenizers.__version__, "transformers": transformers.__version__},
}
with open(os.path.join(out, "bpe.json"), "w") as f:
    json.dump(results, f)
