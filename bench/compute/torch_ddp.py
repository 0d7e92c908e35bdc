#!/usr/bin/python3
"""PyTorch DDP peer of Baton's 2-replica step for issue 25: one process per rank (gloo over 127.0.0.1, the backend
PyTorch's CPU build offers), CIFAR ResNet-20 with shortcut A (bench/profile/torch_step.py's model), SGD momentum 0.9,
weight decay 1e-4, random images, per-process BatchNorm (PyTorch's CPU build cannot run SyncBatchNorm).

Usage: torch_ddp.py RANK WORLD PORT MODEL BATCH_PER_RANK SIZE THREADS WARMUP STEPS
Rank 0 prints "RESULT ... images_per_s=..." for the whole job (WORLD x BATCH_PER_RANK per step, wall time of the timed
steps) and the median step time.
"""
import os
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "profile"))
from torch_step import build_model  # noqa: E402


def main():
    rank, world, port, model_name, batch, size, threads, warmup, steps = sys.argv[1:10]
    rank, world, batch, size, threads, warmup, steps = map(int, (rank, world, batch, size, threads, warmup, steps))
    torch.set_num_threads(threads)
    dist.init_process_group("gloo", init_method="tcp://127.0.0.1:%s" % port, rank=rank, world_size=world)
    torch.manual_seed(7)
    model = build_model(model_name)
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(100 + rank)
    x = torch.rand(batch, 3, size, size, generator=gen)
    y = torch.tensor([(i * 7 + rank) % 10 for i in range(batch)])

    def step():
        opt.zero_grad(set_to_none=False)
        loss = F.cross_entropy(ddp(x), y)
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    dist.barrier()
    times = []
    start = time.perf_counter()
    for _ in range(steps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    wall = time.perf_counter() - start
    times.sort()
    if rank == 0:
        print("RESULT framework=pytorch-ddp-%s model=%s input=%d batch_per_rank=%d world=%d threads=%d steps=%d "
              "step_ms=%.1f images_per_s=%.2f" % (torch.__version__, model_name, size, batch, world,
                                                  torch.get_num_threads(), steps, 1000 * times[len(times) // 2],
                                                  steps * batch * world / wall), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
