#!/usr/bin/python3
"""PyTorch peer of Baton's replica step for issue 25's profile: one process, train mode, SGD (momentum 0.9, weight
decay 1e-4), random images, 10 classes, per-process BatchNorm (PyTorch's CPU build has no SyncBatchNorm).

Usage: torch_step.py MODEL BATCH SIZE THREADS WARMUP STEPS PROFILE_STEPS OUT_COLLAPSED
  MODEL = resnet20 (CIFAR ResNet-20, shortcut A like Baton's zoo) | resnet50, resnet152 (torchvision, 10 classes).
Prints "RESULT ... images_per_s=..." from STEPS timed steps without the profiler, then profiles PROFILE_STEPS more
steps with torch.profiler (CPU) and writes one line per profiled op, "root;...;op self_us", in the collapsed-stack
format of async-profiler so that classify.py reads both frameworks the same way.
"""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlockA(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.pad = cout - cin
        self.stride = stride

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        sc = x
        if self.stride != 1 or self.pad:
            sc = F.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        return F.relu(out + sc)


class CifarResNet(nn.Module):
    def __init__(self, n=3, classes=10):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        layers, cin = [], 16
        for i, w in enumerate((16, 32, 64)):
            for b in range(n):
                layers.append(BasicBlockA(cin, w, 2 if (b == 0 and i > 0) else 1))
                cin = w
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.layers(F.relu(self.bn(self.conv(x))))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


def build_model(model_name):
    """CIFAR ResNet-20 (shortcut A, as Baton's zoo) or torchvision's ResNet-50/152 with 10 classes, in train mode."""
    if model_name == "resnet20":
        model = CifarResNet()
    else:
        import torchvision
        model = getattr(torchvision.models, model_name)(num_classes=10)
    model.train()
    return model


def main():
    model_name, batch, size, threads, warmup, steps, psteps, out = sys.argv[1:9]
    batch, size, threads, warmup, steps, psteps = map(int, (batch, size, threads, warmup, steps, psteps))
    torch.set_num_threads(threads)
    torch.manual_seed(7)
    model = build_model(model_name)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    x = torch.rand(batch, 3, size, size)
    y = torch.tensor([(i * 7) % 10 for i in range(batch)])

    def step():
        opt.zero_grad(set_to_none=False)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    times = []
    start = time.perf_counter()
    for _ in range(steps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    wall = time.perf_counter() - start
    times.sort()
    print("RESULT framework=pytorch-%s model=%s input=%d batch=%d threads=%d steps=%d step_ms=%.1f images_per_s=%.2f"
          % (torch.__version__, model_name, size, batch, torch.get_num_threads(), steps,
             1000 * times[len(times) // 2], steps * batch / wall), flush=True)

    from torch.profiler import profile, ProfilerActivity, record_function
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for i in range(psteps):
            with record_function("step"):
                step()
    stacks = {}
    for ev in prof.events():
        chain, p = [ev.name], ev.cpu_parent
        while p is not None:
            chain.append(p.name)
            p = p.cpu_parent
        key = ";".join(reversed(chain)).replace(" ", "_")
        stacks[key] = stacks.get(key, 0) + ev.self_cpu_time_total
    with open(out, "w") as f:
        for k, v in sorted(stacks.items(), key=lambda kv: -kv[1]):
            if v > 0:
                f.write("%s %d\n" % (k, int(v)))


if __name__ == "__main__":
    main()
