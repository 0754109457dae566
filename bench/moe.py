"""Benchmark: the course's sparse mixture of experts vs dense feed-forward layers, forward + backward.

    python bench/moe.py [--quick] [--tokens N] [--d-model D] [--d-ff F] [--experts E] [--top-k K] [--threads N]

Three layers on the same tokens: ``shared.moe.SparseMoE`` (E experts of size F, top-k routing), a dense SwiGLU of
size k * F (the same *active* parameters per token: what a token costs) and one of size E * F (the same *total*
parameters: what the layer stores). Timed interleaved (A, B, C, A, B, C, ...) after an untimed warm-up; medians.
The last line is machine-readable: ``moe_vs_dense_active=<MoE time / equal-active dense time>`` (target <= 1.5).
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._cli import positive  # noqa: E402
from shared.moe import SparseMoE, SwiGLU  # noqa: E402


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_interleaved(fns, device, repeats, inner, budget_s=float("inf")):
    """Median seconds per call for each fn, in interleaved rounds (at least 3; stops once ``budget_s`` is spent)."""
    times = {name: [] for name in fns}
    start = time.perf_counter()
    for r in range(repeats):
        if r >= 3 and time.perf_counter() - start > budget_s:
            break
        for name, fn in fns.items():
            sync(device)
            t0 = time.perf_counter()
            for _ in range(inner):
                fn()
            sync(device)
            times[name].append((time.perf_counter() - t0) / inner)
    return {name: statistics.median(ts) for name, ts in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (< 15 s on 2 CPU cores)")
    parser.add_argument("--tokens", type=positive(1), default=4096, help="tokens per batch (default 4096)")
    parser.add_argument("--d-model", type=positive(1), default=256)
    parser.add_argument("--d-ff", type=positive(1), default=512, help="size of one expert (default 512)")
    parser.add_argument("--experts", type=positive(1), default=8)
    parser.add_argument("--top-k", type=positive(1), default=2)
    parser.add_argument("--threads", type=positive(1), default=None, help="torch CPU threads (default: torch's)")
    args = parser.parse_args(argv)
    if args.top_k > args.experts:
        parser.error(f"--top-k {args.top_k} > --experts {args.experts}; expected top-k <= experts")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    repeats, inner, warmup, budget_s = (7, 3, 3, 6.0) if args.quick else (21, 5, 10, float("inf"))
    torch.manual_seed(0)
    N, D, F, E, K = args.tokens, args.d_model, args.d_ff, args.experts, args.top_k

    layers = {f"SparseMoE (E={E}, k={K}, d_ff={F})": SparseMoE(D, F, E, K),
              f"dense SwiGLU, equal active (d_ff={K * F})": SwiGLU(D, K * F),
              f"dense SwiGLU, equal total (d_ff={E * F})": SwiGLU(D, E * F)}
    x = torch.randn(N, D, device=device, requires_grad=True)
    grad_out = torch.randn(N, D, device=device)

    def step(layer):
        return lambda: layer(x).backward(grad_out)

    fns = {name: step(layer.to(device)) for name, layer in layers.items()}
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    moe = next(iter(layers.values()))
    timings = time_interleaved(fns, device, repeats, inner, budget_s)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"device={device} threads={torch.get_num_threads()} load={load:.1f} tokens={N} d_model={D} "
          f"(forward+backward, median ms per call; last batch's tokens per expert: {moe.tokens_per_expert.tolist()})")
    print(f"{'layer':<44}{'params':>10}{'active':>10}{'ms':>9}{'vs active':>11}")
    t_active = list(timings.values())[1]
    for (name, t), layer in zip(timings.items(), layers.values(), strict=True):
        total = sum(p.numel() for p in layer.parameters())
        active = 3 * D * K * F + D * E if layer is moe else total
        print(f"{name:<44}{total:>10,}{active:>10,}{t * 1e3:>9.2f}{t / t_active:>11.3f}")
    print(f"moe_vs_dense_active={list(timings.values())[0] / t_active:.3f}")


if __name__ == "__main__":
    main()
