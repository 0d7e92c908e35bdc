package io.baton.common.checkpoint;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names inside a checkpoint directory. Published: {@code ckpt-<step, 12 digits>/} holding {@code MANIFEST} and one
 * {@code part-<name>} file per part. Being written: {@code _tmp-ckpt-<step>-<nonce>/}. Moved aside while a
 * checkpoint of the same step is replaced: {@code _old-ckpt-<step>-<nonce>/}. Names starting with {@code _} are
 * hidden from Hadoop input formats and never listed as checkpoints.
 */
final class CheckpointNames
{
    static final String MANIFEST = "MANIFEST";
    static final String STAGING_PREFIX = "_tmp-";
    static final String ASIDE_PREFIX = "_old-";
    private static final Pattern PUBLISHED = Pattern.compile("ckpt-(\\d{12,19})");
    private static final Pattern HIDDEN = Pattern.compile("_(tmp|old)-ckpt-(\\d{12,19})-[0-9a-f]+");

    private CheckpointNames()
    {
    }

    static String published(final long step)
    {
        return String.format("ckpt-%012d", step);
    }

    static String staging(final long step, final String nonce)
    {
        return STAGING_PREFIX + published(step) + "-" + nonce;
    }

    static String aside(final long step, final String nonce)
    {
        return ASIDE_PREFIX + published(step) + "-" + nonce;
    }

    static String partFile(final String partName)
    {
        return "part-" + partName;
    }

    /** The step of a published checkpoint directory name, or -1. */
    static long publishedStep(final String dirName)
    {
        final Matcher m = PUBLISHED.matcher(dirName);
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /** The step of a staging or moved-aside directory name, or -1. */
    static long hiddenStep(final String dirName)
    {
        final Matcher m = HIDDEN.matcher(dirName);
        return m.matches() ? Long.parseLong(m.group(2)) : -1;
    }
}
