package io.baton.trainer.data.image;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBufferByte;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Decodes JPEG and PNG bytes (other formats javax.imageio knows are tried too) to {@link RgbImage}: grayscale is
 * replicated to three channels, alpha is dropped, CMYK/YCCK JPEGs are converted to RGB. In strict mode (used when
 * validating input in {@code baton prepare}) a decoder warning such as a truncated file is an error.
 *
 * <p>JPEGs go to the {@link JpegBackend}'s decoder. {@link JpegBackend#TURBO} decodes with libjpeg-turbo the files it
 * decodes to exactly the JDK reader's pixels ({@link JpegHeader#decodesAsTheJdkReader}: 8-bit baseline and
 * progressive grayscale and YCbCr 4:4:4/4:2:2/4:2:0 without an ICC profile, nearly every photo) and hands the rest
 * (CMYK/YCCK, 4:4:0, ICC profiles...) to the JDK reader, so the choice of backend never changes a decoded valid file;
 * when its natives do not load, the JDK reader decodes everything and one warning names the reason. PNG and the rest
 * are always read by javax.imageio.
 *
 * <p>Thread-safe: every call uses its own reader instance.
 */
public final class ImageDecoder
{
    /** Found JPEG reader providers per backend (guarded by the class lock of {@link #findJpegSpi}). */
    private static final Map<JpegBackend, ImageReaderSpi> JPEG_SPIS = new EnumMap<>(JpegBackend.class);
    private static boolean pluginsScanned;
    private static final Logger LOG = LoggerFactory.getLogger(ImageDecoder.class);
    private static final AtomicBoolean FALLBACK_WARNED = new AtomicBoolean();
    private static final Set<String> LOGGED_JARS = ConcurrentHashMap.newKeySet();
    private static final String LEPTONICA = "libjpeg-turbo 1.5.3 (bundled with org.bytedeco:leptonica)";

    private final JpegBackend backend;
    private final boolean dctScaling;
    private final ImageReaderSpi jpegSpi;
    /** The host's libjpeg-turbo 2 when TURBO decodes through it, else null (Leptonica's 1.5.3, or not TURBO). */
    private final SystemTurboJpeg system;

    /** A decoder of {@code requested}, or of the JDK reader when {@code requested} is TURBO and its natives do not load. */
    public ImageDecoder(final JpegBackend requested)
    {
        this(requested, false);
    }

    /**
     * A decoder as {@link #ImageDecoder(JpegBackend)}; with {@code dctScaling} it also offers DCT-domain reduction
     * ({@link #reducibleSize}), which needs TURBO with its natives loaded: refused otherwise, since no other decoder
     * gives the same pixels and replicas must agree.
     */
    public ImageDecoder(final JpegBackend requested, final boolean dctScaling)
    {
        this(requested, dctScaling, SystemTurboJpeg.DEBIAN_JAR);
    }

    /**
     * A decoder as {@link #ImageDecoder(JpegBackend, boolean)} whose TURBO backend tries the host's libjpeg-turbo 2
     * through the TurboJPEG binding at {@code turbojpegJar} ({@code data.turbojpeg-jar}) first, then Leptonica's bundled
     * libjpeg-turbo 1.5.3, then the JDK reader: one INFO line names what decodes, one WARN line why a faster one did not
     * load (once per JVM and jar path).
     */
    public ImageDecoder(final JpegBackend requested, final boolean dctScaling, final String turbojpegJar)
    {
        final Object system = requested == JpegBackend.TURBO ? SystemTurboJpeg.load(turbojpegJar) : null;
        this.system = system instanceof SystemTurboJpeg loaded ? loaded : null;
        this.backend = effective(requested, this.system, system instanceof String reason ? reason : null,
            turbojpegJar);
        if (dctScaling && backend != JpegBackend.TURBO)
        {
            throw new IllegalStateException("data.jpeg-dct-scaling = true needs data.jpeg-decoder = turbo with its "
                + "natives loaded; the decoder is " + requested + (requested == JpegBackend.TURBO
                ? " whose natives did not load (" + TurboJpeg.unavailableReason() + "; " + system + ")" : "")
                + "; allowed: data.jpeg-dct-scaling = false");
        }
        this.dctScaling = dctScaling;
        this.jpegSpi = findJpegSpi(backend.imageioBackend());
    }

    /** The backend that decodes: the requested one, or IMAGEIO when TURBO's natives did not load. */
    public JpegBackend backend()
    {
        return backend;
    }

    /**
     * Which libjpeg-turbo decodes TURBO's files: the host's through TurboJPEG (version and paths), or Leptonica's
     * bundled 1.5.3; null when the backend is not TURBO.
     */
    public String turboLibrary()
    {
        if (backend != JpegBackend.TURBO)
        {
            return null;
        }
        return system != null ? system.description() : LEPTONICA;
    }

    private static JpegBackend effective(final JpegBackend requested, final SystemTurboJpeg system,
        final String systemFailure, final String jar)
    {
        if (requested != JpegBackend.TURBO)
        {
            return requested;
        }
        final String leptonicaFailure = system == null ? TurboJpeg.unavailableReason() : null;
        if (LOGGED_JARS.add(jar))
        {
            if (system == null)
            {
                LOG.warn("data.jpeg-decoder = turbo: the host's libjpeg-turbo 2 did not load through the TurboJPEG "
                    + "binding (data.turbojpeg-jar = {}): {}; {} (install Debian/Ubuntu's libturbojpeg-java for 1.3-2x "
                    + "the JDK reader's decoding speed: docs/BENCHMARKS.md)", jar, systemFailure,
                    leptonicaFailure == null ? "decoding with " + LEPTONICA : "trying the JDK reader");
            }
            if (leptonicaFailure == null)
            {
                LOG.info("data.jpeg-decoder = turbo: JPEGs are decoded by {}", system != null ? system.description()
                    : LEPTONICA);
            }
        }
        if (leptonicaFailure == null)
        {
            return requested;
        }
        if (FALLBACK_WARNED.compareAndSet(false, true))
        {
            LOG.warn("data.jpeg-decoder = turbo: the libjpeg-turbo natives (org.bytedeco:leptonica) did not load ({}); "
                + "JPEGs are decoded by the JDK reader (the same pixels, about half the speed: docs/BENCHMARKS.md, "
                + "\"Image pipeline\")", leptonicaFailure);
        }
        return JpegBackend.IMAGEIO;
    }

    /**
     * {width, height} of a JPEG this decoder can decode scaled by 1/2, 1/4 or 1/8 in the DCT domain ({@link
     * #decodeReduced}), from its header; null for every other file (decode it at full size). A function of the bytes
     * and the backend only.
     */
    public int[] reducibleSize(final byte[] encoded)
    {
        final JpegHeader header = dctScaling ? turboHeader(encoded) : null;
        return header == null ? null : new int[] {header.width(), header.height()};
    }

    /**
     * Decodes leniently a JPEG of {@link #reducibleSize} scaled by {@code 1 / reduction} (1, 2, 4 or 8) in the DCT
     * domain (libjpeg's scaled IDCT): {@code ceil(width / reduction) x ceil(height / reduction)} pixels.
     */
    public RgbImage decodeReduced(final byte[] encoded, final int reduction) throws IOException
    {
        if (turboHeader(encoded) == null)
        {
            throw new IllegalArgumentException("not a JPEG libjpeg-turbo decodes here (backend " + backend + ")");
        }
        return turboDecode(encoded, reduction, false);
    }

    private RgbImage turboDecode(final byte[] encoded, final int reduction, final boolean strict) throws IIOException
    {
        return system != null ? system.decode(encoded, reduction, strict) : TurboJpeg.decode(encoded, reduction, strict);
    }

    /** The header of a JPEG that TURBO decodes to the JDK reader's pixels, else null. */
    private JpegHeader turboHeader(final byte[] encoded)
    {
        if (backend != JpegBackend.TURBO || !isJpeg(encoded))
        {
            return null;
        }
        final JpegHeader header = JpegHeader.parse(encoded);
        return header != null && header.decodesAsTheJdkReader() ? header : null;
    }

    /** Decodes leniently: recoverable damage (e.g. a truncated JPEG) yields the decoder's best effort. */
    public RgbImage decode(final byte[] encoded) throws IOException
    {
        return decode(encoded, false);
    }

    /** Decodes; any decoder warning is an {@link IOException} naming it. */
    public RgbImage decodeStrict(final byte[] encoded) throws IOException
    {
        return decode(encoded, true);
    }

    private RgbImage decode(final byte[] encoded, final boolean strict) throws IOException
    {
        if (isJpeg(encoded))
        {
            if (turboHeader(encoded) != null)
            {
                return turboDecode(encoded, 1, strict);
            }
            return read(jpegSpi.createReaderInstance(), encoded, strict);
        }
        try (ImageInputStream probe = new MemoryCacheImageInputStream(new ByteArrayInputStream(encoded)))
        {
            final Iterator<ImageReader> readers = ImageIO.getImageReaders(probe);
            if (!readers.hasNext())
            {
                throw new IIOException("not an image in a known format (" + encoded.length + " bytes, starts "
                    + hexPrefix(encoded) + ")");
            }
            return read(readers.next(), encoded, strict);
        }
    }

    private RgbImage read(final ImageReader reader, final byte[] encoded, final boolean strict) throws IOException
    {
        final List<String> warnings = new ArrayList<>();
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(encoded)))
        {
            reader.setInput(in, true, true);
            reader.addIIOReadWarningListener((source, warning) ->
            {
                if (!isColorProfileNote(warning))
                {
                    warnings.add(warning);
                }
            });
            RgbImage image;
            try
            {
                image = toRgb(reader.read(0));
            }
            catch (final IIOException ex)
            {
                if (!isJpeg(encoded) || reader.getNumImages(false) < 1 || !unsupportedColorSpace(ex))
                {
                    throw ex;
                }
                image = rasterToRgb(reader.readRaster(0, null), encoded);
            }
            if (strict && !warnings.isEmpty())
            {
                throw new IIOException("damaged image: " + String.join("; ", warnings));
            }
            return image;
        }
        catch (final RuntimeException ex)
        {
            // decoders throw IllegalArgumentException, ArrayIndexOutOfBounds... on some garbage
            throw new IIOException("undecodable image: " + ex, ex);
        }
        finally
        {
            reader.dispose();
        }
    }

    /** TwelveMonkeys notes CMYK files without an ICC profile; that is not damage. */
    private static boolean isColorProfileNote(final String warning)
    {
        return warning.contains("ICC") || warning.contains("color profile");
    }

    private static boolean unsupportedColorSpace(final IIOException ex)
    {
        final String message = String.valueOf(ex.getMessage());
        return message.contains("Unsupported Image Type") || message.contains("Unsupported JPEG");
    }

    private static RgbImage rasterToRgb(final Raster raster, final byte[] encoded) throws IIOException
    {
        if (raster.getNumBands() != 4)
        {
            throw new IIOException("unsupported JPEG with " + raster.getNumBands() + " components");
        }
        return CmykToRgb.convert(raster, CmykToRgb.adobeTransform(encoded));
    }

    /** RGB samples of any BufferedImage; fast paths for the layouts the JPEG and PNG readers produce. */
    public static RgbImage toRgb(final BufferedImage image)
    {
        final int width = image.getWidth();
        final int height = image.getHeight();
        final byte[] rgb = new byte[width * height * 3];
        final Raster raster = image.getRaster();
        final int type = image.getType();
        if ((type == BufferedImage.TYPE_3BYTE_BGR || type == BufferedImage.TYPE_BYTE_GRAY
            || type == BufferedImage.TYPE_4BYTE_ABGR) && isPacked(raster))
        {
            final byte[] data = ((DataBufferByte)raster.getDataBuffer()).getData();
            final int n = width * height;
            if (type == BufferedImage.TYPE_BYTE_GRAY)
            {
                for (int i = 0, o = 0; i < n; i++, o += 3)
                {
                    rgb[o] = data[i];
                    rgb[o + 1] = data[i];
                    rgb[o + 2] = data[i];
                }
            }
            else
            {
                final int stride = type == BufferedImage.TYPE_3BYTE_BGR ? 3 : 4;
                final int skip = stride - 3;
                for (int i = 0, o = 0; i < n; i++, o += 3)
                {
                    final int p = i * stride + skip;
                    rgb[o] = data[p + 2];
                    rgb[o + 1] = data[p + 1];
                    rgb[o + 2] = data[p];
                }
            }
            return new RgbImage(width, height, rgb);
        }
        final int[] row = new int[width];
        for (int y = 0; y < height; y++)
        {
            image.getRGB(0, y, width, 1, row, 0, width);
            for (int x = 0, o = y * width * 3; x < width; x++, o += 3)
            {
                final int argb = row[x];
                rgb[o] = (byte)(argb >> 16);
                rgb[o + 1] = (byte)(argb >> 8);
                rgb[o + 2] = (byte)argb;
            }
        }
        return new RgbImage(width, height, rgb);
    }

    private static boolean isPacked(final Raster raster)
    {
        return raster.getDataBuffer() instanceof DataBufferByte
            && raster.getDataBuffer().getNumBanks() == 1
            && raster.getSampleModel() instanceof ComponentSampleModel sm
            && sm.getPixelStride() == raster.getNumBands()
            && sm.getScanlineStride() == raster.getWidth() * raster.getNumBands()
            && raster.getSampleModelTranslateX() == 0 && raster.getSampleModelTranslateY() == 0
            && raster.getDataBuffer().getOffset() == 0;
    }

    /** True when the bytes start with a JPEG SOI marker. */
    public static boolean isJpeg(final byte[] encoded)
    {
        return encoded.length > 3 && (encoded[0] & 0xFF) == 0xFF && (encoded[1] & 0xFF) == 0xD8;
    }

    /**
     * The backend's JPEG reader provider, found once per JVM. Serialised, and ImageIO's plugins scanned at most once
     * more: {@code ImageIO.scanForPlugins()} re-registers every provider, and two replicas of one JVM opening their
     * data at the same moment once made one of them miss the JDK's JPEG reader while the other rescanned (a failed
     * evaluation in CI).
     */
    private static synchronized ImageReaderSpi findJpegSpi(final JpegBackend backend)
    {
        final ImageReaderSpi cached = JPEG_SPIS.get(backend);
        if (cached != null)
        {
            return cached;
        }
        ImageReaderSpi spi = registeredJpegSpi(backend);
        if (spi == null && !pluginsScanned)
        {
            // A plugin backend (its jar on the class path) is registered only by a scan.
            pluginsScanned = true;
            ImageIO.scanForPlugins();
            spi = registeredJpegSpi(backend);
        }
        if (spi == null)
        {
            throw new IllegalStateException("no JPEG reader of backend " + backend + " (" + backend.readerPackage()
                + "*) is registered with javax.imageio");
        }
        JPEG_SPIS.put(backend, spi);
        return spi;
    }

    private static ImageReaderSpi registeredJpegSpi(final JpegBackend backend)
    {
        final Iterator<ImageReaderSpi> spis =
            IIORegistry.getDefaultInstance().getServiceProviders(ImageReaderSpi.class, true);
        while (spis.hasNext())
        {
            final ImageReaderSpi spi = spis.next();
            if (spi.getPluginClassName().startsWith(backend.readerPackage())
                && List.of(spi.getFormatNames()).contains("jpeg"))
            {
                return spi;
            }
        }
        return null;
    }

    private static String hexPrefix(final byte[] bytes)
    {
        final StringBuilder out = new StringBuilder();
        for (int i = 0; i < Math.min(8, bytes.length); i++)
        {
            out.append(String.format("%02x", bytes[i]));
        }
        return out.toString();
    }
}
