package io.baton.trainer.data.image;

import javax.imageio.IIOException;
import java.io.File;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * JPEG decoding through the host's libjpeg-turbo (2.x, SIMD up to AVX2) and its own Java binding, TurboJPEG: Debian's
 * and Ubuntu's package {@code libturbojpeg-java} ({@code /usr/share/java/turbojpeg.jar}, package
 * {@code org.libjpegturbo.turbojpeg}) with {@code libturbojpeg0} ({@code libturbojpeg.so.0}). Measured 1.3-2x the
 * JDK reader's speed where Leptonica's bundled libjpeg-turbo 1.5.3 ({@link TurboJpeg}) is not faster than it
 * (docs/BENCHMARKS.md, "System libjpeg-turbo 2 through TurboJPEG").
 *
 * <p>The binding is not published to Maven Central, so it cannot be a Maven dependency: the jar is loaded at run time
 * (path {@code data.turbojpeg-jar}) by its own class loader, and the few methods Baton calls are bound once as
 * method handles. Its {@code TJLoader} calls {@code System.loadLibrary("turbojpeg")}, which looks for the unversioned
 * {@code libturbojpeg.so} that only the -dev package installs; {@code ClassLoader.loadLibrary} asks the defining loader's
 * {@link ClassLoader#findLibrary} first, so this loader answers with the runtime package's {@code libturbojpeg.so.0}.
 *
 * <p>Decodes straight into the RGB buffer of the {@link RgbImage} (libjpeg's colour conversion replicates gray to
 * RGB); scaled by 1/2, 1/4 or 1/8 in the DCT domain through TurboJPEG's scaled decompression. Default flags: the
 * accurate integer IDCT and fancy upsampling, the JDK reader's libjpeg 6b choices. Thread-safe: one decompressor per
 * thread.
 */
final class SystemTurboJpeg
{
    /** Where Debian's and Ubuntu's {@code libturbojpeg-java} install the binding. */
    static final String DEBIAN_JAR = "/usr/share/java/turbojpeg.jar";

    private static final String LIBRARY = "turbojpeg";
    private static final List<String> LIBRARY_DIRS = List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
        "/usr/lib/powerpc64le-linux-gnu", "/usr/lib/s390x-linux-gnu", "/usr/lib64", "/usr/lib", "/lib64", "/lib",
        "/usr/local/lib", "/opt/libjpeg-turbo/lib64", "/opt/libjpeg-turbo/lib");
    /** Per jar path: a loaded {@link SystemTurboJpeg}, or why it did not load (a String). */
    private static final Map<String, Object> LOADED = new ConcurrentHashMap<>();

    private final String description;
    private final MethodHandle newDecompressor;
    private final MethodHandle setSourceImage;
    private final MethodHandle getWidth;
    private final MethodHandle getHeight;
    private final MethodHandle decompress;
    private final MethodHandle errorCode;
    private final Class<?> tjException;
    private final int pfRgb;
    private final int errWarning;
    private final ThreadLocal<Object> decompressors;

    private SystemTurboJpeg(final ClassLoader loader, final String description) throws ReflectiveOperationException
    {
        this.description = description;
        final MethodHandles.Lookup lookup = MethodHandles.publicLookup();
        final Class<?> tj = Class.forName("org.libjpegturbo.turbojpeg.TJ", true, loader);
        final Class<?> decompressor = Class.forName("org.libjpegturbo.turbojpeg.TJDecompressor", true, loader);
        tjException = Class.forName("org.libjpegturbo.turbojpeg.TJException", true, loader);
        pfRgb = tj.getField("PF_RGB").getInt(null);
        // TJ.ERR_WARNING and TJException.getErrorCode are the TurboJPEG 2 API (libjpeg-turbo 2.0 and later).
        errWarning = tj.getField("ERR_WARNING").getInt(null);
        // Handles typed on Object receivers, so that invokeExact needs no reference to the binding's classes.
        newDecompressor = lookup.findConstructor(decompressor, MethodType.methodType(void.class))
            .asType(MethodType.methodType(Object.class));
        setSourceImage = lookup.findVirtual(decompressor, "setSourceImage",
            MethodType.methodType(void.class, byte[].class, int.class))
            .asType(MethodType.methodType(void.class, Object.class, byte[].class, int.class));
        getWidth = lookup.findVirtual(decompressor, "getWidth", MethodType.methodType(int.class))
            .asType(MethodType.methodType(int.class, Object.class));
        getHeight = lookup.findVirtual(decompressor, "getHeight", MethodType.methodType(int.class))
            .asType(MethodType.methodType(int.class, Object.class));
        // decompress(dst, x, y, desiredWidth, pitch, desiredHeight, pixelFormat, flags)
        decompress = lookup.findVirtual(decompressor, "decompress", MethodType.methodType(void.class, byte[].class,
                int.class, int.class, int.class, int.class, int.class, int.class, int.class))
            .asType(MethodType.methodType(void.class, Object.class, byte[].class, int.class, int.class, int.class,
                int.class, int.class, int.class, int.class));
        errorCode = lookup.findVirtual(tjException, "getErrorCode", MethodType.methodType(int.class))
            .asType(MethodType.methodType(int.class, Throwable.class));
        decompressors = ThreadLocal.withInitial(this::newDecompressor);
        // Loads the natives now (TJDecompressor's static initialiser), so that a failure is a load failure.
        decompressors.get();
    }

    /**
     * The decoder of the binding at {@code jar}, loaded once per path and JVM; a String naming why when it does not
     * load (no jar, no libturbojpeg.so.0, a binding older than TurboJPEG 2, another architecture's library...).
     */
    static Object load(final String jar)
    {
        return LOADED.computeIfAbsent(jar, SystemTurboJpeg::tryLoad);
    }

    private static Object tryLoad(final String jar)
    {
        try
        {
            final Path path = Path.of(jar);
            if (!Files.isRegularFile(path))
            {
                return "no TurboJPEG binding at " + jar + " (Debian/Ubuntu package libturbojpeg-java)";
            }
            final String library = findLibrary();
            if (library == null)
            {
                return "no libturbojpeg.so.0 in java.library.path or " + LIBRARY_DIRS
                    + " (Debian/Ubuntu package libturbojpeg0)";
            }
            final BindingLoader loader = new BindingLoader(path.toUri().toURL(), library);
            return new SystemTurboJpeg(loader, "libjpeg-turbo 2 (the host's, through TurboJPEG: " + jar + ", " + library
                + " = " + Path.of(library).toRealPath().getFileName() + ")");
        }
        catch (final ReflectiveOperationException | LinkageError | RuntimeException | java.io.IOException ex)
        {
            final Throwable cause = ex instanceof java.lang.reflect.InvocationTargetException && ex.getCause() != null
                ? ex.getCause() : ex;
            return cause.getClass().getSimpleName() + ": " + cause.getMessage();
        }
    }

    /** libturbojpeg.so.0 (or .so) in java.library.path or the usual library directories, else null. */
    private static String findLibrary()
    {
        final List<String> dirs = new ArrayList<>();
        for (final String dir : System.getProperty("java.library.path", "").split(File.pathSeparator))
        {
            if (!dir.isEmpty())
            {
                dirs.add(dir);
            }
        }
        dirs.addAll(LIBRARY_DIRS);
        for (final String dir : dirs)
        {
            for (final String name : new String[] {"libturbojpeg.so.0", "libturbojpeg.so"})
            {
                final Path candidate = Path.of(dir, name);
                if (Files.isRegularFile(candidate))
                {
                    return candidate.toAbsolutePath().toString();
                }
            }
        }
        return null;
    }

    /** What loaded, for the log line: library version and paths. */
    String description()
    {
        return description;
    }

    /**
     * Decodes a JPEG scaled by {@code 1 / reduction} (1, 2, 4 or 8): {@code ceil(width / reduction) x
     * ceil(height / reduction)} RGB pixels. Strict: a libjpeg warning (premature end of data, corrupt entropy data...)
     * is an error; lenient: the decoder's best effort is returned, as the JDK reader does.
     */
    RgbImage decode(final byte[] encoded, final int reduction, final boolean strict) throws IIOException
    {
        final Object tj = decompressors.get();
        try
        {
            setSourceImage.invokeExact(tj, encoded, encoded.length);
            final int width = (int)getWidth.invokeExact(tj);
            final int height = (int)getHeight.invokeExact(tj);
            final int w = (width + reduction - 1) / reduction;
            final int h = (height + reduction - 1) / reduction;
            final byte[] rgb = new byte[w * h * 3];
            try
            {
                // TurboJPEG picks the largest scaling factor whose output fits w x h: exactly 1 / reduction.
                decompress.invokeExact(tj, rgb, 0, 0, reduction == 1 ? 0 : w, w * 3, reduction == 1 ? 0 : h, pfRgb,
                    0);
            }
            catch (final Throwable ex)
            {
                if (strict || !tjException.isInstance(ex) || (int)errorCode.invokeExact(ex) != errWarning)
                {
                    throw ex;
                }
                // lenient: a warning (the image is complete, with gray where data was missing)
            }
            return new RgbImage(w, h, rgb);
        }
        catch (final Throwable ex)
        {
            if (ex instanceof Error error && !tjException.isInstance(ex))
            {
                throw error;
            }
            final boolean warning = tjException.isInstance(ex) && warning(ex);
            throw new IIOException((warning ? "damaged image: libjpeg-turbo: " : "undecodable image: libjpeg-turbo: ")
                + ex.getMessage(), ex);
        }
    }

    private boolean warning(final Throwable ex)
    {
        try
        {
            return (int)errorCode.invokeExact(ex) == errWarning;
        }
        catch (final Throwable unexpected)
        {
            return false;
        }
    }

    private Object newDecompressor()
    {
        try
        {
            return (Object)newDecompressor.invokeExact();
        }
        catch (final RuntimeException | Error ex)
        {
            throw ex;
        }
        catch (final Throwable ex)
        {
            throw new IllegalStateException("cannot create a TurboJPEG decompressor: " + ex, ex);
        }
    }

    /** Defines the binding's classes and tells its {@code System.loadLibrary("turbojpeg")} where the library is. */
    private static final class BindingLoader extends URLClassLoader
    {
        private final String library;

        BindingLoader(final URL jar, final String library)
        {
            super("turbojpeg", new URL[] {jar}, ClassLoader.getPlatformClassLoader());
            this.library = library;
        }

        @Override
        protected String findLibrary(final String name)
        {
            return LIBRARY.equals(name) ? library : super.findLibrary(name);
        }
    }
}
