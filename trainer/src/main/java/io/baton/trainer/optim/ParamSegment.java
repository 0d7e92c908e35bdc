package io.baton.trainer.optim;

/**
 * One parameter tensor as a range of the flat parameter (and gradient) vector.
 *
 * @param name   DL4J's variable name, {@code <layer>_<param>}, e.g. {@code stage1_block1_conv1_W}.
 * @param offset first element in the flat vector.
 * @param length number of elements.
 * @param kind   how the optimiser treats it.
 */
public record ParamSegment(String name, long offset, long length, ParamKind kind)
{
    public ParamSegment
    {
        if (offset < 0 || length <= 0)
        {
            throw new IllegalArgumentException("segment " + name + " needs offset >= 0 and length > 0: offset="
                + offset + ", length=" + length);
        }
    }

    /** One past the last element. */
    public long end()
    {
        return offset + length;
    }
}
