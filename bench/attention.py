"""Benchmark: our attention layers vs PyTorch's, forward + backward.

    python -m bench.attention [--quick | --smoke] [--threads N]

Pairs are timed interleaved (A, B, A, B, ...) and we report medians, so slow drift of the
machine (thermal, other processes) hits both sides alike. Before timing, each pair is checked to
compute the same thing: the timed calls' outputs and input gradients must match (otherwise the
run fails with exit status 1 and prints no ratio). The last line is machine-readable:
``mha_vs_torch=<ours / torch time>`` (target: <= 1.05).
"""

import sys

import torch
import torch.nn.functional as F

from bench.common import sized_parser, time_interleaved
from shared.layers import MultiHeadAttention, attention, copy_from_torch_mha


def same_results(fns, inputs) -> str | None:
    """None when the two timed calls give the same output and input gradients, else what differs."""
    got = []
    for fn in fns.values():
        for t in inputs:
            t.grad = None
        out = fn()
        got.append((out.detach().clone(), [t.grad.clone() for t in inputs]))
    (out_a, grads_a), (out_b, grads_b) = got
    if not torch.allclose(out_a, out_b, atol=1e-4):
        return f"outputs differ by up to {float((out_a - out_b).abs().max()):.2e}"
    for i, (a, b) in enumerate(zip(grads_a, grads_b, strict=True)):
        if not torch.allclose(a, b, atol=1e-4):
            return f"input {i}'s gradients differ by up to {float((a - b).abs().max()):.2e}"
    return None


def parse_args(argv=None):
    parser = sized_parser(
        __doc__,
        quick="fewer repeats (< 15 s on 2 CPU cores)",
        smoke="one call per side after one warm-up call",
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    B, L, D, H = 8, 128, 256, 8
    repeats, inner, warmup, budget_s = (
        (1, 1, 1, 0.0) if args.smoke else (7, 5, 5, 4.0) if args.quick else (21, 10, 20, float("inf"))
    )
    torch.manual_seed(0)

    theirs = torch.nn.MultiheadAttention(D, H, batch_first=True).to(device)
    ours = copy_from_torch_mha(MultiHeadAttention(D, H).to(device), theirs)
    x = torch.randn(B, L, D, device=device, requires_grad=True)
    grad_out = torch.randn(B, L, D, device=device)

    def mha_ours():
        out = ours(x, need_weights=False)[0]
        out.backward(grad_out)
        return out

    def mha_torch():
        out = theirs(x, x, x, need_weights=False)[0]
        out.backward(grad_out)
        return out

    q, k, v = (torch.randn(B, H, L, D // H, device=device, requires_grad=True) for _ in range(3))
    grad_qkv = torch.randn(B, H, L, D // H, device=device)

    def explicit():
        out = attention(q, k, v)[0]
        out.backward(grad_qkv)
        return out

    def sdpa():
        out = F.scaled_dot_product_attention(q, k, v)
        out.backward(grad_qkv)
        return out

    pairs = {
        "mha": {"shared.MultiHeadAttention": mha_ours, "nn.MultiheadAttention": mha_torch},
        "sdpa": {"shared.attention (explicit)": explicit, "F.scaled_dot_product_attention": sdpa},
    }
    inputs = {"mha": [x], "sdpa": [q, k, v]}
    # the very calls we time, checked before we time them
    problems = [f"{label}: {p}" for label, fns in pairs.items() if (p := same_results(fns, inputs[label]))]
    if problems:
        sys.exit(
            "FAILED: the two sides do not compute the same thing, so no ratio is reported:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    results = {}
    for label, fns in pairs.items():
        for fn in fns.values():
            for _ in range(warmup):
                fn()
        results[label] = time_interleaved(fns, device, repeats, inner, budget_s)

    print(
        f"device={device} threads={torch.get_num_threads()} B={B} L={L} d_model={D} heads={H} "
        f"rounds<={repeats}x{inner} calls (forward+backward, median ms per call)"
    )
    print(f"{'implementation':<34}{'ms':>9}{'ratio':>9}")
    for timings in results.values():
        (name_a, t_a), (name_b, t_b) = timings.items()
        print(f"{name_a:<34}{t_a * 1e3:>9.3f}{t_a / t_b:>9.3f}")
        print(f"{name_b:<34}{t_b * 1e3:>9.3f}{1.0:>9.3f}")
    (t_ours, t_torch) = results["mha"].values()
    print(f"mha_vs_torch={t_ours / t_torch:.3f}")


if __name__ == "__main__":
    main()
