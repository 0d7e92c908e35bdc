#!/usr/bin/env python3
"""Relative L2 distance ||a - b|| / ||b|| between two runs' per-epoch parameter files of bench/peers/run.sh.

Usage: bench/peers/distance.py A B [epochs=3]
  A, B: DIR/SYSTEM, e.g. /tmp/out/baton /tmp/out-1thread/reference -> compares DIR/SYSTEM.e<epoch>.bin.
Prints, per epoch, the relative L2 distance (b is the denominator), max |a - b| and whether the two are bit-identical.
File format (PeerBench.write, BatonParams.java): big-endian int count, then count big-endian floats (all parameters
of the ComputationGraph in params() order, BN running mean/var included).
"""
import math
import struct
import sys


def params(path):
    with open(path, "rb") as f:
        b = f.read()
    n = struct.unpack(">i", b[:4])[0]
    return struct.unpack(">%df" % n, b[4:4 + 4 * n])


def main():
    a_run, b_run = sys.argv[1], sys.argv[2]
    epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    for e in range(1, epochs + 1):
        a, b = params("%s.e%d.bin" % (a_run, e)), params("%s.e%d.bin" % (b_run, e))
        if len(a) != len(b):
            sys.exit("parameter count differs: %d vs %d" % (len(a), len(b)))
        d = sum((x - y) ** 2 for x, y in zip(a, b))
        r = sum(y * y for y in b)
        print("epoch=%d rel_l2=%.3e max_abs_diff=%.3g bit_identical=%s  %s vs %s" % (
            e, math.sqrt(d / r), max(abs(x - y) for x, y in zip(a, b)), a == b, a_run, b_run))


if __name__ == "__main__":
    main()
