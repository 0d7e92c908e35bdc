package io.baton.trainer.backend;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * Chooses and describes the ND4J native backend of this JVM. {@link #configure()} must run before the first ND4J
 * class loads (first thing in every main, in every Spark task, and in tests): it tells JavaCPP which native variant
 * the build packaged ({@code nd4j.extension}, e.g. {@code -onednn-avx512}), enables DL4J's oneDNN helpers (off by
 * default in DL4J) and keeps the native extraction cache in one known directory. System properties already set on
 * the command line win.
 *
 * <p>Thread-safe; idempotent.
 */
public final class NativeRuntime
{
    /** JavaCPP's property naming the native variant to load. */
    public static final String PLATFORM_EXTENSION = "org.bytedeco.javacpp.platform.extension";
    /** DL4J's switch for the cuDNN/oneDNN layer helpers. */
    public static final String HELPERS_DISABLE = "org.eclipse.deeplearning4j.helpers.disable";
    /** JavaCPP's native extraction cache directory. */
    public static final String CACHE_DIR = "org.bytedeco.javacpp.cachedir";
    /**
     * JavaCPP's bound on the process's resident memory: above it, an allocation first runs the garbage collector
     * (which frees native buffers whose Java objects died) and then fails with an OutOfMemoryError.
     */
    public static final String MAX_PHYSICAL_BYTES = "org.bytedeco.javacpp.maxPhysicalBytes";
    /** Share of the machine's (or container's) memory {@link #MAX_PHYSICAL_BYTES} defaults to. */
    static final double PHYSICAL_SHARE = 0.8;

    private static final Properties BUILD = loadBuild();

    private NativeRuntime()
    {
    }

    /** Sets the native-loading system properties that are not already set. */
    public static synchronized void configure()
    {
        setIfAbsent(PLATFORM_EXTENSION, BUILD.getProperty("nd4j.extension", ""));
        setIfAbsent(HELPERS_DISABLE, "false");
        setIfAbsent(CACHE_DIR, defaultCacheDir().toString());
        // JavaCPP's default bound is 4 x the heap limit, i.e. all of the memory with the default heap (a quarter of
        // it). Native buffers that DL4J detaches from its workspaces (batch normalisation in inference does, for
        // every layer) are freed only when the GC finds their Java objects, and a heap with little garbage rarely
        // collects: `baton evaluate` of ResNet-20 at 224x224 grew to 24 GB and was killed by the kernel on a 24 GB
        // machine. Bounded at 80 % the same run peaked at 19 GB and finished (bounded at 6 GB, it stayed there).
        final long physical = physicalMemoryBytes();
        if (physical > 0)
        {
            setIfAbsent(MAX_PHYSICAL_BYTES, Long.toString((long)(physical * PHYSICAL_SHARE)));
        }
    }

    /** Memory of this machine or of the container it runs in (cgroup-aware), or 0 if unknown. */
    static long physicalMemoryBytes()
    {
        final OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean
            ? ((com.sun.management.OperatingSystemMXBean)os).getTotalMemorySize() : 0;
    }

    /** The backend this distribution was built for: {@code cpu} or {@code cuda}. */
    public static String backend()
    {
        return BUILD.getProperty("baton.backend", "cpu");
    }

    /** The ND4J native variant the build packaged (e.g. {@code -onednn-avx512}; empty for the default jar). */
    public static String buildExtension()
    {
        return BUILD.getProperty("nd4j.extension", "");
    }

    /** Baton's version. */
    public static String version()
    {
        return BUILD.getProperty("baton.version", "unknown");
    }

    /** The extraction cache used when none is configured: {@code ~/.cache/baton/javacpp}. */
    public static Path defaultCacheDir()
    {
        return Path.of(System.getProperty("user.home"), ".cache", "baton", "javacpp");
    }

    /**
     * What is actually in use, for logs and {@code baton model}: backend, native variant, whether DL4J's oneDNN
     * helpers are active. Loads ND4J.
     */
    public static Map<String, String> describe()
    {
        configure();
        final Map<String, String> out = new LinkedHashMap<>();
        out.put("backend", backend());
        out.put("nd4j.extension", System.getProperty(PLATFORM_EXTENSION, ""));
        out.put("onednn.helpers", String.valueOf(oneDnnHelpersActive()));
        out.put("javacpp.cachedir", System.getProperty(CACHE_DIR));
        return out;
    }

    /**
     * True when DL4J will route convolution, pooling and batch normalisation through oneDNN: helpers enabled, the
     * native library built with oneDNN, and DL4J's reflective check succeeding (see {@code org.nd4j.nativeblas
     * .Nd4jCpu}).
     */
    public static boolean oneDnnHelpersActive()
    {
        configure();
        if (Boolean.parseBoolean(System.getProperty(HELPERS_DISABLE, "true")))
        {
            return false;
        }
        return org.deeplearning4j.nn.layers.mkldnn.BaseMKLDNNHelper.mklDnnEnabled();
    }

    /**
     * Binds this thread's ND4J work to the accelerator Spark assigned to the task. On the CUDA backend the first
     * address selects the device; on the CPU backend there is nothing to bind, and the call only reports that.
     *
     * @return a line describing what was done, for the task's log.
     */
    public static String bindDevice(final java.util.List<String> gpuAddresses)
    {
        configure();
        if (gpuAddresses.isEmpty())
        {
            return "no GPU assigned; running on " + backend();
        }
        final int device;
        try
        {
            device = Integer.parseInt(gpuAddresses.get(0).trim());
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("GPU address '" + gpuAddresses.get(0) + "' from Spark's resource "
                + "discovery is not a device index (all addresses: " + gpuAddresses + ")", ex);
        }
        if (!"cuda".equals(backend()))
        {
            return "GPU " + device + " assigned but this build uses the " + backend() + " backend; nothing bound";
        }
        org.nd4j.linalg.factory.Nd4j.getAffinityManager().unsafeSetDevice(device);
        return "bound ND4J to GPU " + device;
    }

    private static void setIfAbsent(final String key, final String value)
    {
        if (System.getProperty(key) == null && value != null)
        {
            System.setProperty(key, value);
        }
    }

    private static Properties loadBuild()
    {
        final Properties props = new Properties();
        try (InputStream in = NativeRuntime.class.getResourceAsStream("/io/baton/trainer/baton-build.properties"))
        {
            if (in != null)
            {
                props.load(in);
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        return props;
    }
}
