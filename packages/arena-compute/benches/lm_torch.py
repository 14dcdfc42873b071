"""PyTorch CPU baseline for `cargo bench -p arena-compute --bench lm` (benches/lm.rs runs this
with the venv from scripts/python-venv.sh and reads one JSON object from stdout).

The same shapes as the Rust rows: GPT2LMHeadModel (transformers, eager attention, dropout 0,
tied embeddings, gelu_new, LayerNorm eps 1e-5) with
- the byte-level model (2 layers, d 64, 4 heads, ctx 128, vocab 256): training steps of a batch
  of 8 x 128 tokens with AdamW (lr 3e-3, betas 0.9/0.99, eps 1e-8, weight decay 0.1) and global
  gradient clipping at 1.0, and evaluation (no_grad forward + loss) of batches of 16 x 128;
- a GPT-2-small-shaped model (12 layers, d 768, 12 heads, vocab 50,257, random weights): a
  no_grad forward + loss of one sequence of `--gpt2-tokens` tokens;
- LoRA fine-tuning (PEFT: r 8, alpha 16, no dropout, on attn.c_attn and attn.c_proj) of that shape
  with `--lora-layers` layers, frozen: training steps of one sequence of 256 tokens, AdamW (lr
  3e-3, betas 0.9/0.99, eps 1e-8, no weight decay) with gradient clipping at 1.0.
Tokens are seeded random ids: the time does not depend on them. `--device cuda` runs the same rows
on the GPU torch sees (the issue's PyTorch CUDA baseline; the default, auto, takes CUDA when there is
one), timing with the device synchronized.
"""

import argparse
import json
import time

import peft
import torch
from transformers import GPT2Config, GPT2LMHeadModel


def model(layers, d, heads, ctx, vocab):
    config = GPT2Config(
        n_layer=layers,
        n_embd=d,
        n_head=heads,
        n_positions=ctx,
        vocab_size=vocab,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        layer_norm_epsilon=1e-5,
        activation_function="gelu_new",
        tie_word_embeddings=True,
        bos_token_id=vocab - 1,
        eos_token_id=vocab - 1,
    )
    config._attn_implementation = "eager"
    return GPT2LMHeadModel(config)


def tokens_per_second(run, tokens, repeats, device):
    # CUDA runs asynchronously: wait for the queued work before reading the clock.
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    run()  # warm-up: allocations, first-call dispatch
    sync()
    start = time.perf_counter()
    for _ in range(repeats):
        run()
    sync()
    return tokens * repeats / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--train-steps", type=int, default=30)
    parser.add_argument("--eval-batches", type=int, default=20)
    parser.add_argument("--gpt2-tokens", type=int, default=256)
    parser.add_argument("--gpt2-repeats", type=int, default=3)
    parser.add_argument("--lora-layers", type=int, default=12)
    parser.add_argument("--lora-steps", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads; 0 keeps torch's default")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    args = parser.parse_args()
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(args.device)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(1)

    small = model(2, 64, 4, 128, 256).to(device)
    optimizer = torch.optim.AdamW(small.parameters(), lr=3e-3, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.1)
    train_batch = torch.randint(0, 256, (8, 128)).to(device)
    eval_batch = torch.randint(0, 256, (16, 128)).to(device)

    def train_step():
        small.train()
        optimizer.zero_grad(set_to_none=True)
        small(input_ids=train_batch, labels=train_batch).loss.backward()
        torch.nn.utils.clip_grad_norm_(small.parameters(), 1.0)
        optimizer.step()

    def evaluate():
        small.eval()
        with torch.no_grad():
            small(input_ids=eval_batch, labels=eval_batch).loss.item()

    # labels = inputs: Hugging Face shifts them, so 127 predicted positions per sequence, as a
    # window of 129 bytes gives 128 elsewhere; the few percent are within the noise of a shared
    # machine and the rows count the tokens fed.
    train = tokens_per_second(train_step, 8 * 128, args.train_steps, device)
    evaluation = tokens_per_second(evaluate, 16 * 128, args.eval_batches, device)

    gpt2 = model(12, 768, 12, 1024, 50257).to(device).eval()
    sequence = torch.randint(0, 50257, (1, args.gpt2_tokens)).to(device)

    def forward():
        with torch.no_grad():
            gpt2(input_ids=sequence, labels=sequence).loss.item()

    gpt2_forward = tokens_per_second(forward, args.gpt2_tokens, args.gpt2_repeats, device)

    lora_config = peft.LoraConfig(
        r=8, lora_alpha=16, lora_dropout=0.0, target_modules=["attn.c_attn", "attn.c_proj"], fan_in_fan_out=True
    )
    tuned = peft.get_peft_model(model(args.lora_layers, 768, 12, 1024, 50257), lora_config).to(device)
    adapter = [p for p in tuned.parameters() if p.requires_grad]
    lora_optimizer = torch.optim.AdamW(adapter, lr=3e-3, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.0)
    lora_sequence = torch.randint(0, 50257, (1, 256)).to(device)

    def lora_step():
        tuned.train()
        lora_optimizer.zero_grad(set_to_none=True)
        tuned(input_ids=lora_sequence, labels=lora_sequence).loss.backward()
        torch.nn.utils.clip_grad_norm_(adapter, 1.0)
        lora_optimizer.step()

    lora_train = tokens_per_second(lora_step, 256, args.lora_steps, device)
    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "peft": peft.__version__,
                "threads": torch.get_num_threads(),
                "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
                "byte_model_train_tokens_per_s": train,
                "byte_model_eval_tokens_per_s": evaluation,
                "gpt2_forward_tokens_per_s": gpt2_forward,
                "gpt2_lora_train_tokens_per_s": lora_train,
            }
        )
    )


if __name__ == "__main__":
    main()
