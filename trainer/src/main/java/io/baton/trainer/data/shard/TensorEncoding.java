package io.baton.trainer.data.shard;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;

/**
 * Prepared data whose records hold ready float tensors instead of encoded images: what a DL4J {@code DataSet} RDD is
 * staged as (examples already preprocessed by their owner, so no decoding, augmentation or normalisation is applied
 * to them). The manifest's {@code options} say so: {@code "encoding": "float32-chw"} and {@code "shape": [c, h, w]};
 * each record's bytes are the example's {@code c*h*w} floats in CHW order, little-endian. Stateless.
 */
public final class TensorEncoding
{
    /** Manifest option naming the record encoding; absent for {@code baton prepare}'s encoded images. */
    public static final String ENCODING_OPTION = "encoding";
    /** Manifest option holding one example's {@code [channels, height, width]}. */
    public static final String SHAPE_OPTION = "shape";
    /** The value of {@link #ENCODING_OPTION} for float32 CHW records. */
    public static final String FLOAT32_CHW = "float32-chw";

    private TensorEncoding()
    {
    }

    /** True when the manifest's records are float tensors ({@link #FLOAT32_CHW}). */
    public static boolean isTensor(final Manifest manifest)
    {
        return manifest.options() != null && FLOAT32_CHW.equals(manifest.options().get(ENCODING_OPTION));
    }

    /** The {@code [c, h, w]} of one example of a tensor manifest. */
    public static int[] shape(final Manifest manifest)
    {
        final Object shape = manifest.options().get(SHAPE_OPTION);
        if (!(shape instanceof List<?> dims) || dims.size() != 3)
        {
            throw new IllegalArgumentException("manifest option " + SHAPE_OPTION + " = " + shape + ": expected [c, h, w]");
        }
        return dims.stream().mapToInt(d -> ((Number) d).intValue()).toArray();
    }

    /** The manifest options of tensor data of that example shape, plus {@code extra}. */
    public static Map<String, Object> options(final int[] chw, final Map<String, Object> extra)
    {
        final Map<String, Object> options = new java.util.LinkedHashMap<>();
        options.put(ENCODING_OPTION, FLOAT32_CHW);
        options.put(SHAPE_OPTION, List.of(chw[0], chw[1], chw[2]));
        options.putAll(extra);
        return options;
    }

    /** The record bytes of one example. */
    public static byte[] encode(final float[] values)
    {
        final ByteBuffer buffer = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buffer.asFloatBuffer().put(values);
        return buffer.array();
    }

    /** Decodes one record into {@code out} at {@code offset}; the record must hold exactly {@code length} floats. */
    public static void decode(final byte[] bytes, final float[] out, final int offset, final int length)
    {
        if (bytes.length != length * Float.BYTES)
        {
            throw new IllegalStateException("tensor record of " + bytes.length + " bytes, expected " + length
                + " floats (" + length * Float.BYTES + " bytes)");
        }
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out, offset, length);
    }
}
