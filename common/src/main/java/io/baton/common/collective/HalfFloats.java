package io.baton.common.collective;

/**
 * Float to 2-byte value conversions of the compressed ring ({@link CollectiveSettings.Compression}): IEEE 754 half
 * precision (FP16) and bfloat16 (BF16), both rounding to nearest, ties to even, as hardware does. Widening back is
 * exact, and narrowing a widened value gives the same 2 bytes again, which is what lets a rank forward a value it
 * received without changing it. Java 17 has no Float.floatToFloat16 (it came in 20), hence the bit arithmetic.
 */
final class HalfFloats
{
    private HalfFloats()
    {
    }

    /** src[0, count) narrowed into dst[0, count). */
    static void narrow(final CollectiveSettings.Compression compression, final float[] src, final short[] dst,
        final int count)
    {
        if (compression == CollectiveSettings.Compression.BF16)
        {
            for (int i = 0; i < count; i++)
            {
                dst[i] = toBfloat16(src[i]);
            }
        }
        else
        {
            for (int i = 0; i < count; i++)
            {
                dst[i] = toHalf(src[i]);
            }
        }
    }

    /** src[0, count) widened into dst[0, count). */
    static void widen(final CollectiveSettings.Compression compression, final short[] src, final float[] dst,
        final int count)
    {
        if (compression == CollectiveSettings.Compression.BF16)
        {
            for (int i = 0; i < count; i++)
            {
                dst[i] = fromBfloat16(src[i]);
            }
        }
        else
        {
            for (int i = 0; i < count; i++)
            {
                dst[i] = fromHalf(src[i]);
            }
        }
    }

    /** values[0, count) replaced by their narrowed-then-widened value (what a receiver of them holds). */
    static void round(final CollectiveSettings.Compression compression, final float[] values, final int count)
    {
        if (compression == CollectiveSettings.Compression.BF16)
        {
            for (int i = 0; i < count; i++)
            {
                values[i] = fromBfloat16(toBfloat16(values[i]));
            }
        }
        else
        {
            for (int i = 0; i < count; i++)
            {
                values[i] = fromHalf(toHalf(values[i]));
            }
        }
    }

    /** IEEE 754 binary16 nearest to {@code value} (ties to even); beyond +-65504 (after rounding) infinite. */
    static short toHalf(final float value)
    {
        final int bits = Float.floatToRawIntBits(value);
        final int sign = (bits >>> 16) & 0x8000;
        final int abs = bits & 0x7fff_ffff;
        if (abs >= 0x7f80_0000)
        {
            // infinity stays; NaN stays NaN (quiet, top payload bits kept)
            return (short)(sign | 0x7c00 | (abs > 0x7f80_0000 ? 0x200 | ((abs >>> 13) & 0x3ff) : 0));
        }
        if (abs >= 0x4780_0000)
        {
            return (short)(sign | 0x7c00); // >= 65536: infinite
        }
        if (abs < 0x3880_0000)
        {
            // below 2^-14: a subnormal half, m x 2^-24
            if (abs < 0x3300_0000)
            {
                return (short)sign; // below 2^-25 (2^-25 itself ties to the even 0)
            }
            final int exponent = abs >>> 23;
            final int mantissa = (abs & 0x7f_ffff) | 0x80_0000;
            final int shift = 126 - exponent;
            int m = mantissa >>> shift;
            final int rest = mantissa & ((1 << shift) - 1);
            final int halfway = 1 << (shift - 1);
            if (rest > halfway || (rest == halfway && (m & 1) != 0))
            {
                m++;
            }
            return (short)(sign | m);
        }
        int h = (((abs >>> 23) - 112) << 10) | ((abs & 0x7f_ffff) >>> 13);
        final int rest = abs & 0x1fff;
        if (rest > 0x1000 || (rest == 0x1000 && (h & 1) != 0))
        {
            h++; // a carry into the exponent is right, up to 0x7c00 (infinite)
        }
        return (short)(sign | h);
    }

    /** The float equal to the binary16 {@code half}. */
    static float fromHalf(final short half)
    {
        final int bits = half & 0xffff;
        final int sign = (bits & 0x8000) << 16;
        final int exponent = (bits >>> 10) & 0x1f;
        final int mantissa = bits & 0x3ff;
        if (exponent == 0x1f)
        {
            return Float.intBitsToFloat(sign | 0x7f80_0000 | (mantissa << 13));
        }
        if (exponent == 0)
        {
            final float magnitude = mantissa * 0x1p-24f; // exact: mantissa < 2^10
            return sign != 0 ? -magnitude : magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }

    /** The bfloat16 nearest to {@code value} (ties to even); NaN stays NaN. */
    static short toBfloat16(final float value)
    {
        final int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7fff_ffff) > 0x7f80_0000)
        {
            return (short)((bits >>> 16) | 0x40);
        }
        return (short)((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    /** The float equal to the bfloat16 {@code value}. */
    static float fromBfloat16(final short value)
    {
        return Float.intBitsToFloat((value & 0xffff) << 16);
    }
}
