#!/usr/bin/env python3
"""The class tokens that the HaTFAS reference code distils, as a fixture.

Run by hand (never in CI), after `make_timm_fixtures.py` (it reads that script's
timm_tiny checkpoint and input):

    scripts/.venv/bin/python scripts/make_reference_fixtures.py

The reference (github.com/Maricle-zhangjun/HaTFAS, customized_forward.py,
`vit_forward_features`) replaces timm's forward of the student and the teacher. It
embeds the images (class token, patches, position embedding, `pos_drop`), then loops over
the blocks taking row 0 of `blk.attn(blk.norm1(x))` for each, but never assigns the block
outputs to `x` inside that loop; the blocks run afterwards for the logits. So block i's
distilled token is its attention applied to the *embeddings*, not to block i's input (as
docs/METHOD.md describes). `trainer distill --feature-tokens embeddings` reproduces this.

This script recomputes that loop independently (its own code, not the reference's), on
the timm_tiny model in eval mode, and writes

  timm_tiny/embedding_tokens.safetensors
      embedding_class_tokens [depth, B, D]: row 0 of blocks[i].attn(blocks[i].norm1(x0)),
                                            x0 the embeddings of expected.safetensors' input
      logits [B, 2]:                        the model's logits (the loop does not change them)

  timm_tiny/reference_checkpoint.pth
      the timm_tiny weights saved as the reference's main.py (and DeiT's) saves a checkpoint
      ({'model', 'optimizer', 'lr_scheduler', 'epoch', 'model_ema', 'scaler', 'args'}, with
      AdamW and scheduler state from timm's factories and `args` an argparse.Namespace),
      so that `trainer import` is checked on what a reference run leaves behind
"""

from __future__ import annotations

import argparse
from pathlib import Path

import safetensors.torch
import timm
import torch
from timm.models.vision_transformer import VisionTransformer

from make_timm_fixtures import make_timm_tiny  # the timm_tiny architecture

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "timm_tiny"


@torch.no_grad()
def main() -> None:
    torch.set_num_threads(1)
    model = make_timm_tiny()
    checkpoint = torch.load(OUT / "checkpoint.pth", map_location="cpu", weights_only=True)
    state = {k.removeprefix("module."): v for k, v in checkpoint["model"].items()}
    model.load_state_dict(state, strict=True)
    model.eval()
    expected = safetensors.torch.load_file(OUT / "expected.safetensors")
    x = expected["input"]

    # The embeddings, as timm builds the first block's input.
    x0 = model.patch_embed(x)
    x0 = model._pos_embed(x0)
    x0 = model.norm_pre(x0)
    tokens = torch.stack([blk.attn(blk.norm1(x0))[:, 0] for blk in model.blocks], 0)
    logits = model(x)
    assert torch.equal(logits, expected["logits"]), "timm_tiny's logits changed"
    # Block 0 reads the embeddings either way; the others must differ from METHOD.md's.
    assert torch.allclose(tokens[0], expected["class_tokens"][0], atol=1e-6)
    for i in range(1, len(model.blocks)):
        diff = (tokens[i] - expected["class_tokens"][i]).abs().max().item()
        print(f"block {i}: embedding token vs block-input token max |diff| {diff:.3f}")
        assert diff > 0.05, "the fixture would not tell the two definitions apart"
    safetensors.torch.save_file(
        {"embedding_class_tokens": tokens.contiguous(), "logits": logits.contiguous()},
        OUT / "embedding_tokens.safetensors",
        metadata={
            "embedding_class_tokens": "[depth, B, D]: row 0 of blocks[i].attn(blocks[i]"
                                      ".norm1(x0)), x0 the embeddings (HaTFAS reference)",
            "timm": timm.__version__,
            "torch": torch.__version__,
        },
    )
    print(f"wrote {OUT / 'embedding_tokens.safetensors'}")
    write_reference_checkpoint(model)


def write_reference_checkpoint(model: VisionTransformer) -> None:
    """`model`'s weights under 'model', beside the other entries of a reference checkpoint."""
    import copy

    from timm.optim import create_optimizer
    from timm.scheduler import create_scheduler
    from timm.utils import ModelEma, get_state_dict

    args = argparse.Namespace(model="deit_tiny_patch16_224", opt="adamw", lr=5e-4,
                              weight_decay=0.05, momentum=0.9, opt_eps=1e-8, opt_betas=None,
                              sched="cosine", epochs=300, min_lr=1e-5, warmup_lr=1e-6,
                              warmup_epochs=5, cooldown_epochs=10, decay_rate=0.1,
                              decay_epochs=30, patience_epochs=10, lr_noise=None,
                              lr_noise_pct=0.67, lr_noise_std=1.0, data_set="FACE",
                              output_dir="runs/student", s_id=[4, 6, 8], t_id=[4, 6, 8])
    # Optimiser state from one step of a copy, so that 'model' keeps the fixture's weights.
    trained = copy.deepcopy(model).train()
    with torch.enable_grad():
        optimizer = create_optimizer(args, trained)
        trained(torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(5))).sum().backward()
        optimizer.step()
    scheduler, _ = create_scheduler(args, optimizer)
    ema = ModelEma(trained, decay=0.99996, device="", resume="")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "lr_scheduler": scheduler.state_dict(), "epoch": 41,
                "model_ema": get_state_dict(ema),
                "scaler": {"scale": 65536.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                           "growth_interval": 2000, "_growth_tracker": 0},
                "args": args},
               OUT / "reference_checkpoint.pth")
    print(f"wrote {OUT / 'reference_checkpoint.pth'}")


if __name__ == "__main__":
    main()
