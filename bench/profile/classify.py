#!/usr/bin/python3
"""Maps collapsed stacks ("frame;frame;...;leaf weight", root first) to issue 25's categories and prints a
percentage table. Usage: classify.py baton|torch FILE [--top N] (--top: the heaviest unclassified "other" stacks).

Input: async-profiler's collapsed output (Baton, cpu samples of every thread; weight = samples) or torch_step.py's
(PyTorch, torch.profiler op tree; weight = self CPU microseconds of the op on the calling thread).

The first rule whose pattern matches decides. "any" rules look at every frame of the stack, "leaf" rules at the
leaf frame only, "native" rules at the frames below the deepest Java frame (the native code the last Java call
entered). The rule tables below ARE the stated patterns; docs/BENCHMARKS.md quotes them.
"""
import re
import sys
from collections import OrderedDict

CATEGORIES = [
    "conv forward", "conv backward-data", "conv backward-weights", "conv backward (data+weights, one op)",
    "reorders / layout copies", "BatchNorm", "element-wise (ReLU, add)", "pooling",
    "allocation / workspace (malloc, free, memset, page faults)", "Java-side graph overhead / op dispatch",
    "updater / optimizer", "loss + softmax + fc", "OpenMP wait / spin", "JVM runtime (GC, JIT compiler)",
    "native, not attributable (no frame could be named)", "other",
]

# async-profiler frame names: Java methods as org/pkg/Class.method (with ann: _[j] JIT, _[i] inlined, _[0]/_[1]
# interpreted/C1), kernel frames with _[k], native C/C++ symbols demangled (dnnl::impl::..., sd::ops::...).
JAVA_FRAME = re.compile(r"(_\[[ji01]\]$)|^L?[\w$]+(/[\w$]+)+\.[\w$<>]+")
# A native frame async-profiler could not name: the library's path (libnd4jcpu's internal functions) or [unknown]
# (no unwind through code without frame pointers, or oneDNN's run-time generated jit kernels).
UNNAMED_NATIVE = re.compile(r"^/|^\[unknown\]$")
# Baton's own Java compute kernels: a Java leaf here is BN / optimizer / element-wise work (the residual add's and the
# ReLU gradient's passes), any other Java leaf is graph overhead.
BATON_JAVA_KERNELS = [("BatchNorm", re.compile(r"io/baton/trainer/syncbn/")),
                      ("updater / optimizer", re.compile(r"io/baton/trainer/optim/")),
                      ("element-wise (ReLU, add)", re.compile(r"io/baton/trainer/layers/Replica(AddVertex|Activation)"))]
# JDK library code that Baton's kernels call (Arrays.fill, NIO buffers' checks): attributed to its caller.
JDK_FRAME = re.compile(r"^(java|jdk|sun)/")
BATON_RULES = [
    ("JVM runtime (GC, JIT compiler)", "any",
     r"CompileBroker|C2Compiler|Compilation::|VMThread::|GCTaskThread|GenCollectedHeap|SerialHeap|"
     r"G1[A-Z]|WatcherThread|MonitorDeflationThread|ServiceThread|SafepointSynchronize"),
    ("OpenMP wait / spin", "leaf", r"libgomp\.so|gomp_(barrier|team_barrier|mutex|sem|wait|spin)|do_spin|futex|sched_yield|"
     r"GOMP_barrier|GOMP_parallel_end|__kmp_(wait|fork_barrier|join_barrier|yield)|do_syscall_64_\[k\]$"),
    ("allocation / workspace (malloc, free, memset, page faults)", "any",
     r"^(__libc_)?(malloc|calloc|realloc|free|cfree|posix_memalign|aligned_alloc|memalign)$|_int_(malloc|free|"
     r"memalign)|malloc_consolidate|^__?mem(set|_set)|memset_avx|__mmap|__munmap|^mmap|^munmap|madvise|"
     r"page_fault|clear_page|do_anonymous_page|Unsafe_SetMemory|Unsafe_AllocateMemory|Unsafe_FreeMemory|"
     r"sd::memory::|Workspace|Nd4jWorkspace|BaseDataBuffer\.<init>|BaseCpuDataBuffer\.<init>|"
     r"DataBufferFactory\.create|createUninitialized|PointerDeallocator|javacpp/Pointer\.(deallocate|<init>)|"
     r"Nd4j\.(create|zeros)|DirectMemory"),
    ("reorders / layout copies", "native", r"reorder|Reorder"),
    ("conv backward-weights", "native", r"bwd_weights|backward_weights|BwdWeights|conv2d_bp.*weight"),
    ("conv backward-data", "native", r"bwd_data|backward_data|BwdData"),
    ("conv forward", "native", r"convolution_fwd|conv.*fwd|fwd.*conv|_conv_.*execute_forward|brgemm_conv|"
     r"jit_avx512_common_conv|jit_uni_conv|gemm_convolution"),
    ("conv backward (data+weights, one op)", "native", r"conv2d_bp|conv2dBP|conv2dBp"),
    ("conv forward", "native", r"conv2d|Conv2D"),
    ("BatchNorm", "any", r"io/baton/trainer/syncbn|BatchNormalization|batchnorm|batch_norm"),
    ("pooling", "any", r"[Pp]ooling|pool2d|SubsamplingLayer|GlobalPooling"),
    ("updater / optimizer", "any", r"io/baton/trainer/optim|Updater\.update|BaseMultiLayerUpdater|GradientUpdater|"
     r"SynchronousStep\.(applyUpdate|update)"),
    ("loss + softmax + fc", "any", r"LossMCXENT|LossFunctions|OutputLayer|softmax|Softmax|DenseLayer|BaseOutputLayer"),
    ("element-wise (ReLU, add)", "any", r"ActivationReLU|[Rr]elu|ActivationLayer|ElementWiseVertex|ReplicaAddVertex|ZeroPadShortcut|"
     r"[Pp]airwise|PairWiseTransform|[Ss]calar[A-Z_]|LegacyScalar|ElementWise"),
    ("conv forward", "any", r"ConvolutionLayer\.(activate|preOutput)"),
    ("conv backward (data+weights, one op)", "any", r"ConvolutionLayer\.backpropGradient"),
    ("Java-side graph overhead / op dispatch", "any",
     r"^(org/deeplearning4j/|org/nd4j/|io/baton/)|Java_org_nd4j|JavaCPP|javacpp|sd::ops::|sd::graph::|"
     r"ShapeDescriptor|ConstantShapeHelper|ShapeUtils|execCustomOp|NativeOps|sd::NDArray|Interpreter|"
     r"JavaCalls|jni_|JNIHandles|SharedRuntime|OptoRuntime|vtable|itable|StubRoutines|_\[[ji01]\]$"),
]

# Rules applied before the Java-leaf test (the rest classify native work by the Java layer that called it).
EARLY = ("JVM runtime (GC, JIT compiler)", "allocation / workspace (malloc, free, memset, page faults)")

# torch.profiler op names (torch 1.13 CPU). Context frames: "step", "Optimizer.step#SGD.step",
# "autograd::engine::evaluate_function: XxxBackward0", "torch::autograd::AccumulateGrad".
TORCH_RULES = [
    ("updater / optimizer", "any", r"^Optimizer\.|^Optimizer\.zero_grad"),
    ("allocation / workspace (malloc, free, memset, page faults)", "leaf",
     r"^aten::(empty|empty_like|empty_strided|zeros|zeros_like|zero_|fill_|resize_|new_empty|new_zeros)$"),
    ("conv backward (data+weights, one op)", "any", r"ConvolutionBackward|convolution_backward"),
    ("conv forward", "any", r"^aten::(conv2d|convolution|_convolution|mkldnn_convolution|thnn_conv2d|"
     r"_slow_conv2d_forward)$"),
    ("BatchNorm", "any", r"batch_norm|BatchNorm"),
    ("pooling", "any", r"pool|Pool|MeanBackward|^aten::mean$"),
    ("loss + softmax + fc", "any", r"cross_entropy|nll_loss|NllLoss|log_softmax|LogSoftmax|^aten::(linear|addmm|"
     r"mm|t)$|AddmmBackward|TBackward|MmBackward"),
    ("element-wise (ReLU, add)", "any", r"relu|Relu|threshold|^aten::(add|add_)$|AddBackward|constant_pad|"
     r"ConstantPadNd|^aten::pad$|SliceBackward|^aten::slice$"),
    ("reorders / layout copies", "leaf", r"^aten::(copy_|contiguous|clone|to|_to_copy|to_dense|to_mkldnn|"
     r"reshape|view|flatten|as_strided)$"),
    ("Java-side graph overhead / op dispatch", "any",
     r"AccumulateGrad|autograd::engine|^step$|^aten::(detach|detach_|ones_like|expand|select|unsqueeze)$|"
     r"Backward0$"),
]


def classify(frames, rules, which="baton"):
    java = [i for i, f in enumerate(frames) if JAVA_FRAME.search(f) and not UNNAMED_NATIVE.search(f)]
    native = frames[java[-1] + 1:] if java else frames
    java_leaf = which == "baton" and bool(java) and java[-1] == len(frames) - 1
    if which == "baton" and all(UNNAMED_NATIVE.search(f) for f in frames) and "libgomp" not in frames[-1]:
        return "native, not attributable (no frame could be named)"
    for cat, scope, pat in rules:
        if java_leaf and scope == "any" and cat not in EARLY:
            # The sample is in Java code: Baton's Java kernels, or else the graph/dispatch code around the ops. A JDK
            # leaf (Arrays.fill, a buffer's bounds check) counts for the code that called it.
            caller = next((f for f in reversed(frames) if not JDK_FRAME.search(f)), frames[-1])
            for kcat, kpat in BATON_JAVA_KERNELS:
                if kpat.search(caller):
                    return kcat
            return "Java-side graph overhead / op dispatch"
        where = frames if scope == "any" else (frames[-1:] if scope == "leaf" else native)
        if any(pat.search(f) for f in where):
            return cat
    return "other"


# async-profiler's `threads` option puts the thread first: "[name tid=123]".
THREAD_FRAME = re.compile(r"^\[(.*?)\s*tid=\d+\]$")


def thread_group(name):
    """OpenMP's and ForkJoin's workers share a group each; other threads keep their name."""
    if re.match(r"baton-replica-parallel-", name):
        return "Baton's Java compute threads (ReplicaParallel)"
    if name in ("java", ""):
        return "unnamed native threads (OpenMP workers)"
    if re.match(r"C[12] CompilerThre|VM |GC |G1 ", name):
        return "JVM (JIT compiler, GC, VM)"
    return name


def main():
    which, path = sys.argv[1], sys.argv[2]
    top = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 0
    # --per-thread N: profiles taken with async-profiler's `threads` option also get one table per thread group,
    # in ms per step for N profiled steps (wall time waiting off the CPU is not in a cpu profile)
    per_thread_steps = int(sys.argv[sys.argv.index("--per-thread") + 1]) if "--per-thread" in sys.argv else 0
    by_thread = OrderedDict()
    rules = [(c, s, re.compile(p)) for c, s, p in (BATON_RULES if which == "baton" else TORCH_RULES)]
    totals = OrderedDict((c, 0) for c in CATEGORIES)
    others = {}
    all_w = 0
    for line in open(path):
        line = line.rstrip("\n")
        if not line:
            continue
        stack, _, w = line.rpartition(" ")
        w = int(w)
        frames = stack.split(";")
        thread = THREAD_FRAME.match(frames[0])
        if thread:
            frames = frames[1:]
        cat = classify(frames, rules, which)
        if thread and per_thread_steps:
            group = by_thread.setdefault(thread_group(thread.group(1)), OrderedDict((c, 0) for c in CATEGORIES))
            group[cat] += w
        totals[cat] += w
        all_w += w
        if cat == "other":
            key = ";".join(frames[-3:])
            others[key] = others.get(key, 0) + w
    unit = "samples" if which == "baton" else "self CPU us"
    print("| category | %% of %s (total %d %s) |" % ("CPU samples" if which == "baton" else "op self time",
                                                     all_w, unit))
    print("|---|---|")
    for c, w in totals.items():
        if w:
            print("| %s | %.1f |" % (c, 100.0 * w / all_w))
    for group, cats in by_thread.items():
        all_group = sum(cats.values())
        print("thread %s: %.0f ms of CPU per step" % (group, all_group / per_thread_steps))
        for c, w in sorted(cats.items(), key=lambda kv: -kv[1]):
            if w >= per_thread_steps:  # at least 1 ms per step (1 ms sampling interval)
                print("  %6.0f ms  %s" % (w / per_thread_steps, c))
    if top:
        print("heaviest 'other' stacks (last 3 frames):")
        for k, w in sorted(others.items(), key=lambda kv: -kv[1])[:top]:
            print("  %5.1f%% %s" % (100.0 * w / all_w, k[-300:]))


if __name__ == "__main__":
    main()
