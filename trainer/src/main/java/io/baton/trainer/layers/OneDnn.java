package io.baton.trainer.layers;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.dnnl.engine;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * oneDNN 2.5 through JavaCPP's preset ({@code org.bytedeco:dnnl}), for Baton's own convolution
 * ({@link OneDnnConvolution}): whether it can run here, its CPU engine, and the per-thread buffers that every
 * convolution of a thread shares for its layout conversions and scratchpad.
 *
 * <p>Why a second oneDNN next to libnd4j's: libnd4j links oneDNN 2.3 statically with its symbols hidden, and its
 * convolution op creates the primitive, its blocked buffers and oneDNN's scratchpad anew on every call (the profile in
 * docs/BENCHMARKS.md: page faults and reorders into fresh memory took as long as the convolutions). Calling oneDNN
 * directly lets a layer keep its primitives and reuse one set of buffers.
 *
 * <p>Only the ND4J CPU backend qualifies (decided once, when the first layer asks); on the CUDA backend, or where the
 * natives do not load, {@link #available} is false with one warning naming the reason, and layers keep DL4J's helper.
 *
 * <p>Threading: {@link #available} and {@link #engine} are thread-safe; {@link #arena} is the calling thread's own.
 */
final class OneDnn
{
    private static final Logger LOG = LoggerFactory.getLogger(OneDnn.class);

    private static volatile Boolean available;
    private static volatile String unavailableReason;
    private static engine cpuEngine;

    private static final ThreadLocal<Arena> ARENAS = ThreadLocal.withInitial(Arena::new);

    private OneDnn()
    {
    }

    /** Whether oneDNN's natives load and ND4J runs on the CPU. */
    static boolean available()
    {
        Boolean known = available;
        if (known == null)
        {
            synchronized (OneDnn.class)
            {
                known = available;
                if (known == null)
                {
                    known = load();
                    available = known;
                }
            }
        }
        return known;
    }

    /** Why {@link #available} is false, or null. */
    static String unavailableReason()
    {
        return unavailableReason;
    }

    private static boolean load()
    {
        final String backend = Nd4j.getBackend().getClass().getSimpleName();
        if (!backend.startsWith("CpuBackend"))
        {
            unavailableReason = "ND4J backend " + backend + " is not the CPU backend";
            LOG.warn("Baton's oneDNN convolution is off: {}; convolutions use DL4J's helper", unavailableReason);
            return false;
        }
        try
        {
            Loader.load(org.bytedeco.dnnl.global.dnnl.class);
            cpuEngine = new engine(engine.kind.cpu, 0);
            return true;
        }
        catch (final Throwable e) // UnsatisfiedLinkError, or a oneDNN error creating the engine
        {
            unavailableReason = "oneDNN's natives did not load: " + e;
            LOG.warn("Baton's oneDNN convolution is off: {}; convolutions use DL4J's helper", unavailableReason);
            return false;
        }
    }

    /** The CPU engine; only after {@link #available} returned true. */
    static engine engine()
    {
        return cpuEngine;
    }

    /** The calling thread's shared buffers. */
    static Arena arena()
    {
        return ARENAS.get();
    }

    /** A pointer object whose address is set per call (no allocation, no deallocator). */
    static final class Address extends Pointer
    {
        Address at(final long address)
        {
            this.address = address;
            this.position = 0;
            return this;
        }
    }

    /**
     * Grow-only native buffers shared by the convolutions of one thread, one per role: the layers of a graph run one
     * after another on the training thread and use a buffer only within one call, so a graph needs each role's
     * largest size once instead of a set per layer (ResNet-152 at 224x224 would otherwise hold gigabytes).
     */
    static final class Arena
    {
        static final int SRC = 0;
        static final int WEIGHTS = 1;
        static final int DST = 2;
        static final int DIFF_DST_DATA = 3;
        static final int DIFF_DST_WEIGHTS = 4;
        static final int DIFF_SRC = 5;
        static final int DIFF_WEIGHTS = 6;
        static final int SCRATCHPAD = 7;
        private static final int ROLES = 8;
        private static final long ALIGNMENT = 64;

        private static final java.lang.ref.Cleaner CLEANER = java.lang.ref.Cleaner.create();

        private final Pointer[] blocks = new Pointer[ROLES];
        private final long[] capacityBytes = new long[ROLES];

        Arena()
        {
            // the thread's arena becomes unreachable when the thread ends; free its native blocks then
            final Pointer[] owned = blocks;
            CLEANER.register(this, () ->
            {
                for (final Pointer block : owned)
                {
                    if (block != null)
                    {
                        Pointer.free(block);
                    }
                }
            });
        }

        /** The address of role {@code role}'s buffer of at least {@code bytes}, 64-byte aligned. */
        long address(final int role, final long bytes)
        {
            if (capacityBytes[role] < bytes || blocks[role] == null)
            {
                if (blocks[role] != null)
                {
                    Pointer.free(blocks[role]);
                }
                final long size = Math.max(bytes, 64);
                final Pointer block = Pointer.malloc(size + ALIGNMENT);
                if (block == null || block.isNull())
                {
                    throw new OutOfMemoryError("oneDNN convolution buffer of " + size + " bytes");
                }
                blocks[role] = block;
                capacityBytes[role] = size;
            }
            final long base = blocks[role].address();
            return (base + ALIGNMENT - 1) & -ALIGNMENT;
        }
    }
}
