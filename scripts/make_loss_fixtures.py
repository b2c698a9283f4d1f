#!/usr/bin/env python3
"""Reference values for the HaTFAS distillation losses (trainer/src/train/distill.rs), computed
independently with torch (float64 arithmetic and autograd) on small seeded tensors.

Run by hand (never in CI):

    python3 -m venv scripts/.venv
    scripts/.venv/bin/pip install -r scripts/requirements-fixtures.txt
    scripts/.venv/bin/python scripts/make_loss_fixtures.py

Writes tests/fixtures/losses/losses.safetensors (float32) and (re)writes the text between
the `<!-- losses:begin -->` / `<!-- losses:end -->` comments of tests/fixtures/README.md,
inserting it before the `## metrics/` section the first time. `make_timm_fixtures.py`
rewrites the README without this section: run this script after it.

Definitions (docs/METHOD.md, "Distillation losses"):
  soft(s, t, tau)  = sum_c softmax(t/tau)_c * (log softmax(t/tau)_c - log softmax(s/tau)_c),
                     mean over the batch ("batchmean"), times tau^2;
  soft_deit        = DeiT's code: F.kl_div(..., reduction='sum', log_target=True) * tau^2
                     / s.numel() (divides by batch x classes; for reference only);
  hard(s, t)       = cross-entropy of s against argmax(t), mean over the batch;
  feature          = mean over pairs k of mean((T - S S^T T)^2), S and T the L2-normalised
                     rows (F.normalize, eps 1e-12) of student_tokens[s_ids[k]] and
                     teacher_tokens[t_ids[k]];
  total            = (1 - alpha) base + alpha logit + beta feature (alpha taken as 0 for
                     kind "none"), base = plain cross-entropy of s against the labels.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_timm_fixtures import save_safetensors  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
OUT = FIXTURES / "losses"

SEED = 20240613
BATCH, CLASSES, DS, DT, LAYERS = 4, 2, 6, 9, 3
S_IDS = [0, 2, 2]
T_IDS = [1, 2, 0]
ALPHA, BETA = 0.7, 0.5
TAUS = [3.0, 1.0]

README_BEGIN = "<!-- losses:begin -->"
README_END = "<!-- losses:end -->"
METRICS_SECTION = "\n## metrics/\n"


def soft(s: torch.Tensor, t: torch.Tensor, tau: float) -> torch.Tensor:
    log_p_s = F.log_softmax(s / tau, dim=1)
    log_p_t = F.log_softmax(t / tau, dim=1)
    kl = F.kl_div(log_p_s, log_p_t, reduction="batchmean", log_target=True)
    # Independent check of the same definition, written out.
    manual = (log_p_t.exp() * (log_p_t - log_p_s)).sum(dim=1).mean()
    assert torch.allclose(kl, manual, atol=1e-12), (kl, manual)
    return kl * tau * tau


def soft_deit(s: torch.Tensor, t: torch.Tensor, tau: float) -> torch.Tensor:
    # deit/losses.py, DistillationLoss, distillation_type == 'soft'.
    return F.kl_div(F.log_softmax(s / tau, dim=1), F.log_softmax(t / tau, dim=1),
                    reduction="sum", log_target=True) * (tau * tau) / s.numel()


def hard(s: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(s, t.argmax(dim=1))


def feature(students: list, teachers: list) -> tuple:
    pairs = []
    for si, ti in zip(S_IDS, T_IDS):
        s = F.normalize(students[si], dim=-1)
        t = F.normalize(teachers[ti], dim=-1)
        c = s.transpose(0, 1) @ t
        r = s @ c
        pairs.append(((t - r) ** 2).mean())
    return torch.stack(pairs).mean(), pairs


def main() -> None:
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(SEED)
    f32 = dict(dtype=torch.float32, generator=g)
    student_logits = torch.randn(BATCH, CLASSES, **f32) * 2.0
    teacher_logits = torch.randn(BATCH, CLASSES, **f32) * 2.0
    labels = torch.randint(0, CLASSES, (BATCH,), generator=g)
    # Varied row scales and offsets, so the L2 normalisation matters.
    students = [torch.randn(BATCH, DS, **f32) * 3.0 + 0.5 for _ in range(LAYERS)]
    teachers = [torch.randn(BATCH, DT, **f32) * 2.0 - 0.3 for _ in range(LAYERS)]

    # Reference arithmetic in float64 from the float32 inputs.
    s64 = student_logits.double()
    t64 = teacher_logits.double()
    out = {
        "student_logits": student_logits,
        "teacher_logits": teacher_logits,
        "labels": labels.float(),
    }
    for i in range(LAYERS):
        out[f"student_tokens_{i}"] = students[i]
        out[f"teacher_tokens_{i}"] = teachers[i]

    for tau in TAUS:
        tag = f"tau{tau:g}"
        s = s64.clone().requires_grad_(True)
        loss = soft(s, t64, tau)
        loss.backward()
        out[f"soft_{tag}"] = loss.detach().reshape(1)
        out[f"soft_{tag}_grad_student_logits"] = s.grad
        out[f"soft_deit_{tag}"] = soft_deit(s64, t64, tau).reshape(1)

    s = s64.clone().requires_grad_(True)
    loss = hard(s, t64)
    loss.backward()
    out["hard"] = loss.detach().reshape(1)
    out["hard_grad_student_logits"] = s.grad
    out["hard_targets"] = t64.argmax(dim=1).double()

    st = [x.double().requires_grad_(True) for x in students]
    tt = [x.double() for x in teachers]
    feat, pairs = feature(st, tt)
    feat.backward()
    out["feature"] = feat.detach().reshape(1)
    out["feature_pairs"] = torch.stack(pairs).detach()
    for i in range(LAYERS):
        grad = st[i].grad if st[i].grad is not None else torch.zeros_like(st[i])
        out[f"feature_grad_student_tokens_{i}"] = grad

    base = F.cross_entropy(s64, labels)
    out["base"] = base.reshape(1)
    logit = {"none": torch.zeros((), dtype=torch.float64), "soft": soft(s64, t64, TAUS[0]),
             "hard": hard(s64, t64)}
    for kind, value in logit.items():
        alpha = 0.0 if kind == "none" else ALPHA
        total = (1 - alpha) * base + alpha * value + BETA * feat.detach()
        out[f"total_{kind}"] = total.reshape(1)

    out = {k: v.detach().to(torch.float32).contiguous() for k, v in out.items()}
    metadata = {
        "seed": str(SEED),
        "s_ids": ",".join(map(str, S_IDS)),
        "t_ids": ",".join(map(str, T_IDS)),
        "alpha": repr(ALPHA),
        "beta": repr(BETA),
        "total_tau": repr(TAUS[0]),
        "torch": torch.__version__,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    save_safetensors(out, OUT / "losses.safetensors", metadata)
    for k in ["soft_tau3", "soft_tau1", "soft_deit_tau3", "hard", "feature", "base",
              "total_none", "total_soft", "total_hard"]:
        print(f"{k:16s} {out[k].item():.8f}")
    print("feature_pairs   ", out["feature_pairs"].tolist())
    write_readme()


def write_readme() -> None:
    text = f"""{README_BEGIN}
## losses/

Generated by `scripts/make_loss_fixtures.py` (run by hand, not in CI; seeded and
deterministic) with torch {torch.__version__}. It replaces the text between the
`losses:begin`/`losses:end` comments; `make_timm_fixtures.py` rewrites this README
without this section, so run this script after it. Checked by the unit tests of
`trainer/src/train/distill.rs` (every value and gradient to 1e-5).

`losses.safetensors` (float32; reference arithmetic in float64 from the float32 inputs,
gradients by torch autograd), seed {SEED}:
- inputs: `student_logits`, `teacher_logits` [{BATCH},{CLASSES}], `labels` [{BATCH}] (class
  indices as floats), `student_tokens_{{0,1,2}}` [{BATCH},{DS}], `teacher_tokens_{{0,1,2}}`
  [{BATCH},{DT}];
- `soft_tau3`, `soft_tau1`: METHOD.md's soft distillation (KL(softmax(t/tau) ||
  softmax(s/tau)), summed over classes, mean over the batch, times tau^2), with
  `soft_tau*_grad_student_logits`; `soft_deit_tau3`, `soft_deit_tau1`: DeiT's code, which
  divides by batch x classes instead of the batch (= soft / {CLASSES} here; reference only);
- `hard`, `hard_grad_student_logits`, `hard_targets` (argmax of the teacher logits);
- `feature`: the head-aware feature loss for s_ids {S_IDS}, t_ids {T_IDS}
  (student layer 2 used twice, layer 1 not at all), `feature_pairs` its per-pair terms,
  `feature_grad_student_tokens_{{0,1,2}}` its gradients (layer 1: zeros);
- `base` (plain cross-entropy against the labels) and `total_{{none,soft,hard}}` with
  alpha {ALPHA}, beta {BETA}, tau {TAUS[0]:g} (alpha taken as 0 for `none`).
{README_END}
"""
    readme = FIXTURES / "README.md"
    old = readme.read_text() if readme.exists() else ""
    if README_BEGIN in old and README_END in old:
        head, rest = old.split(README_BEGIN, 1)
        tail = rest.split(README_END, 1)[1].lstrip("\n")
        new = head + text + ("\n" + tail if tail else "")
    elif METRICS_SECTION in old:
        head, tail = old.split(METRICS_SECTION, 1)
        new = head.rstrip("\n") + "\n\n" + text + METRICS_SECTION + tail
    else:
        new = old.rstrip("\n") + ("\n\n" if old else "") + text
    readme.write_text(new)


if __name__ == "__main__":
    main()
