package io.baton.trainer.data.image;

/**
 * Which javax.imageio JPEG reader decodes JPEGs. Both decode through the JDK's bundled libjpeg for ordinary
 * YCbCr/grayscale files; they differ in CMYK/YCCK handling and speed (docs/BENCHMARKS.md, "Image pipeline").
 */
public enum JpegBackend
{
    /** The JDK's own reader; CMYK/YCCK files are read as a raw raster and converted by {@link CmykToRgb}. */
    IMAGEIO("com.sun.imageio.plugins.jpeg."),
    /** TwelveMonkeys' imageio-jpeg: reads CMYK/YCCK (with ICC profiles) and many broken files itself. */
    TWELVEMONKEYS("com.twelvemonkeys.imageio.plugins.jpeg.");

    /**
     * The backend Baton uses unless told otherwise, chosen by measurement: the JDK reader decoded ~10% more images/s
     * than TwelveMonkeys on 500x375 q90 JPEGs (docs/BENCHMARKS.md, "Image pipeline").
     */
    public static final JpegBackend DEFAULT = IMAGEIO;

    private final String readerPackage;

    JpegBackend(final String readerPackage)
    {
        this.readerPackage = readerPackage;
    }

    /** Package prefix of the reader class of this backend. */
    String readerPackage()
    {
        return readerPackage;
    }
}
