package io.baton.trainer.data.image;

/**
 * Which decoder reads JPEGs. The two javax.imageio readers decode through the JDK's bundled libjpeg 6b for ordinary
 * YCbCr/grayscale files and differ in CMYK/YCCK handling and speed; {@link #TURBO} decodes through libjpeg-turbo
 * natives (docs/BENCHMARKS.md, "Image pipeline").
 */
public enum JpegBackend
{
    /** The JDK's own reader; CMYK/YCCK files are read as a raw raster and converted by {@link CmykToRgb}. */
    IMAGEIO("com.sun.imageio.plugins.jpeg."),
    /** TwelveMonkeys' imageio-jpeg: reads CMYK/YCCK (with ICC profiles) and many broken files itself. */
    TWELVEMONKEYS("com.twelvemonkeys.imageio.plugins.jpeg."),
    /**
     * libjpeg-turbo (SIMD): the host's 2.x through its TurboJPEG binding ({@link SystemTurboJpeg}, Debian/Ubuntu's
     * libturbojpeg-java) when it loads, else the 1.5.3 in Leptonica's JavaCPP natives ({@link TurboJpeg}); CMYK/YCCK
     * files, and every file where neither loads (another OS or architecture), go to {@link #IMAGEIO}.
     */
    TURBO(null);

    /**
     * The backend Baton uses unless told otherwise: libjpeg-turbo, as issue 21 asks. It gives the JDK reader's pixels
     * (the files it would not are handed to the JDK reader), so the choice never changes a trajectory. Measured on
     * the CI machine kind: the host's libjpeg-turbo 2 decodes ImageNet-sized JPEGs at 1.3-2x the JDK reader's
     * rate, Leptonica's 1.5.3 as fast, not faster (docs/BENCHMARKS.md, "Image pipeline").
     */
    public static final JpegBackend DEFAULT = TURBO;

    private final String readerPackage;

    JpegBackend(final String readerPackage)
    {
        this.readerPackage = readerPackage;
    }

    /** Package prefix of the javax.imageio reader class of this backend, or null for {@link #TURBO}. */
    String readerPackage()
    {
        return readerPackage;
    }

    /** The javax.imageio backend that reads what this one does not (CMYK/YCCK for {@link #TURBO}): itself otherwise. */
    JpegBackend imageioBackend()
    {
        return this == TURBO ? IMAGEIO : this;
    }
}
