"""Benchmark: the course's sparse mixture of experts vs dense feed-forward layers, forward + backward.

    python -m bench.moe [--quick | --smoke] [--tokens N] [--d-model D] [--d-ff F] [--experts E] [--top-k K]
                        [--threads N]

Three layers on the same tokens: ``shared.moe.SparseMoE`` (E experts of size F, top-k routing), a dense SwiGLU of
size k * F (the same *active* parameters per token: what a token costs) and one of size E * F (the same *total*
parameters: what the layer stores). Timed interleaved (A, B, C, A, B, C, ...) after an untimed warm-up; medians.
Before timing, the MoE's timed call is checked against a per-token reference (each token through its own k experts,
mixed with its gates): outputs and input gradients must match, or the run fails with exit status 1 and no ratio.
The last line is machine-readable: ``moe_vs_dense_active=<MoE time / equal-active dense time>`` (target <= 1.5).
"""

import os
import sys

import torch

from bench.common import positive, sized_parser, time_interleaved
from shared.moe import SparseMoE, SwiGLU


def reference(moe, x):
    """The MoE computed the slow, obvious way: every token through its own top-k experts, one token at a time."""
    _, weights, experts = moe.route(x)
    rows = [
        sum(w * moe._expert(int(e), x[i : i + 1])[0] for w, e in zip(weights[i], experts[i], strict=True))
        for i in range(x.size(0))
    ]
    return torch.stack(rows)


def same_results(moe, x, grad_out) -> str | None:
    """None when the sorted dispatch gives the reference's outputs and input gradients, else what differs."""
    got = []
    for fn in (moe, lambda t: reference(moe, t)):
        x.grad = None
        out = fn(x)
        out.backward(grad_out)
        got.append((out.detach().clone(), x.grad.clone()))
    x.grad = None
    (out_a, grad_a), (out_b, grad_b) = got
    if not torch.allclose(out_a, out_b, atol=1e-5):
        return f"outputs differ from the per-token reference by up to {float((out_a - out_b).abs().max()):.2e}"
    if not torch.allclose(grad_a, grad_b, atol=1e-5):
        gap = float((grad_a - grad_b).abs().max())
        return f"input gradients differ from the per-token reference by up to {gap:.2e}"
    return None


def parse_args(argv=None):
    parser = sized_parser(
        __doc__,
        quick="fewer repeats (< 15 s on 2 CPU cores)",
        smoke="small layers, one call per side after one warm-up call",
    )
    parser.add_argument("--tokens", type=positive(1), default=4096, help="tokens per batch (default 4096)")
    parser.add_argument("--d-model", type=positive(1), default=256)
    parser.add_argument("--d-ff", type=positive(1), default=512, help="size of one expert (default 512)")
    parser.add_argument("--experts", type=positive(1), default=8)
    parser.add_argument("--top-k", type=positive(1), default=2)
    args = parser.parse_args(argv)
    if args.top_k > args.experts:
        parser.error(f"--top-k {args.top_k} > --experts {args.experts}; expected top-k <= experts")
    if args.smoke:
        args.tokens, args.d_model, args.d_ff = min(args.tokens, 64), min(args.d_model, 16), min(args.d_ff, 16)
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    repeats, inner, warmup, budget_s = (
        (1, 1, 1, 0.0) if args.smoke else (7, 3, 3, 6.0) if args.quick else (21, 5, 10, float("inf"))
    )
    torch.manual_seed(0)
    N, D, F, E, K = args.tokens, args.d_model, args.d_ff, args.experts, args.top_k

    layers = {
        f"SparseMoE (E={E}, k={K}, d_ff={F})": SparseMoE(D, F, E, K),
        f"dense SwiGLU, equal active (d_ff={K * F})": SwiGLU(D, K * F),
        f"dense SwiGLU, equal total (d_ff={E * F})": SwiGLU(D, E * F),
    }
    x = torch.randn(N, D, device=device, requires_grad=True)
    grad_out = torch.randn(N, D, device=device)

    def step(layer):
        return lambda: layer(x).backward(grad_out)

    fns = {name: step(layer.to(device)) for name, layer in layers.items()}
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    moe = next(iter(layers.values()))
    problem = same_results(moe, x, grad_out)
    print(f"checks: MoE equals the per-token reference={problem is None}")
    if problem:
        sys.exit(f"FAILED: {problem}; no ratio reported")
    timings = time_interleaved(fns, device, repeats, inner, budget_s)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"device={device} threads={torch.get_num_threads()} load={load:.1f} tokens={N} d_model={D} "
        f"(forward+backward, median ms per call; last batch's tokens per expert: {moe.tokens_per_expert.tolist()})"
    )
    print(f"{'layer':<44}{'params':>10}{'active':>10}{'ms':>9}{'vs active':>11}")
    t_active = list(timings.values())[1]
    for (name, t), layer in zip(timings.items(), layers.values(), strict=True):
        total = sum(p.numel() for p in layer.parameters())
        active = 3 * D * K * F + D * E if layer is moe else total
        print(f"{name:<44}{total:>10,}{active:>10,}{t * 1e3:>9.2f}{t / t_active:>11.3f}")
    print(f"moe_vs_dense_active={list(timings.values())[0] / t_active:.3f}")


if __name__ == "__main__":
    main()
