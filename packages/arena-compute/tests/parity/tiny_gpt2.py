"""The tiny random GPT-2 both parity scripts build: every tensor kind, 2 blocks, several heads and
a context of 24 positions. The sizes cross nothing in particular. Dropout is off so a forward
pass is deterministic; gelu_new is GPT-2's tanh GELU, which Arena computes."""

import transformers


def tiny_gpt2_config(vocab_size, **extra):
    return transformers.GPT2Config(
        vocab_size=vocab_size,
        n_positions=24,
        n_embd=32,
        n_layer=2,
        n_head=4,
        activation_function="gelu_new",
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        layer_norm_epsilon=1e-5,
        tie_word_embeddings=True,
        **extra,
    )
