"""A tiny random llama model with a small byte-level BPE tokenizer, built with transformers and tokenizers (no
download) and saved to a local folder, for the language-model reference's tests."""

from __future__ import annotations

from pathlib import Path

TRAINING_TEXT = [
    "In January and February the weather is cold, and in March it warms.",
    "The meeting moved from April to May, then to June and July.",
    "August, September and October are busy months for the harvest.",
    "November and December close the year with short days.",
    "The river runs through the city and the old bridge crosses it.",
] * 4


def build_tiny_llama(folder: str | Path, seed: int = 0, layers: int = 2, hidden: int = 16) -> Path:
    """Save a random ``LlamaForCausalLM`` (``layers`` blocks, width ``hidden``) and its fast tokenizer in ``folder``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320, special_tokens=["<s>", "</s>", "<pad>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(TRAINING_TEXT, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    fast.save_pretrained(folder)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(fast),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=256,
        tie_word_embeddings=True,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder
