package io.baton.trainer.data;

import io.baton.trainer.data.shard.Manifest;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What makes prepared data the same data for an exact resume: its class names in label order and, per split, the
 * sample count and every shard's size and checksum. Written as a short readable line with a digest, e.g.
 * {@code 10 classes, train 961 + val 240 samples, sha256 1a2b3c4d5e6f7081}; the manifest's creation time and the
 * options prepare ran with are left out, so that preparing the same files again gives the same identity.
 *
 * <p>Threading: stateless.
 */
public final class DataIdentity
{
    private static final int DIGEST_HEX_CHARS = 16;

    private DataIdentity()
    {
    }

    /** The identity of a {@code baton prepare} output. */
    public static String of(final Manifest manifest)
    {
        final MessageDigest sha;
        try
        {
            sha = MessageDigest.getInstance("SHA-256");
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException("SHA-256 is missing from this JVM", ex);
        }
        for (final String c : manifest.classes())
        {
            update(sha, "class " + c);
        }
        final Map<String, Manifest.Split> splits = new TreeMap<>(manifest.splits());
        final StringBuilder counts = new StringBuilder();
        for (final Map.Entry<String, Manifest.Split> e : splits.entrySet())
        {
            update(sha, "split " + e.getKey() + " " + e.getValue().count());
            for (final Manifest.ShardEntry shard : e.getValue().shards())
            {
                update(sha, "shard " + shard.file() + " " + shard.count() + " " + shard.bytes() + " " + shard.crc32c());
            }
            counts.append(counts.length() == 0 ? "" : " + ").append(e.getKey()).append(' ')
                .append(e.getValue().count());
        }
        final StringBuilder hex = new StringBuilder();
        for (final byte b : sha.digest())
        {
            hex.append(String.format(Locale.ROOT, "%02x", b));
        }
        return manifest.classes().size() + " classes, " + counts + " samples, sha256 "
            + hex.substring(0, DIGEST_HEX_CHARS);
    }

    private static void update(final MessageDigest sha, final String line)
    {
        sha.update((line + "\n").getBytes(StandardCharsets.UTF_8));
    }
}
