package io.baton.common.collective;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.HexFormat;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The secret of one stage's collectives: every replica of the stage holds the same 32 random bytes and proves it when
 * it connects (see {@link AeronCommunicator}). Created once per stage ({@link #random()}, by rank 0 of the Spark
 * stage) and handed to the other replicas through a channel the stage already trusts (Spark's barrier allGather).
 * {@link #toString()} shows only the key's fingerprint, so a key is never logged.
 */
public final class StageKey implements Serializable
{
    private static final long serialVersionUID = 1L;
    /** Key length in bytes (the HMAC-SHA256 block is 64; 32 is its output size and the usual key size). */
    public static final int LENGTH = 32;
    static final String MAC_ALGORITHM = "HmacSHA256";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] bytes;

    private StageKey(final byte[] bytes)
    {
        if (bytes.length != LENGTH)
        {
            throw new IllegalArgumentException("stage key must be " + LENGTH + " bytes, got " + bytes.length);
        }
        this.bytes = bytes.clone();
    }

    /** A fresh key from {@link SecureRandom}. */
    public static StageKey random()
    {
        final byte[] bytes = new byte[LENGTH];
        RANDOM.nextBytes(bytes);
        return new StageKey(bytes);
    }

    /** The key of {@link #toHex()}'s 64 hex digits. */
    public static StageKey fromHex(final String hex)
    {
        if (hex == null || hex.length() != 2 * LENGTH)
        {
            throw new IllegalArgumentException("stage key must be " + 2 * LENGTH + " hex digits, got " +
                (hex == null ? "null" : hex.length() + " characters"));
        }
        return new StageKey(HexFormat.of().parseHex(hex));
    }

    /** The key as 64 hex digits: secret, for the channel that carries it, never for a log. */
    public String toHex()
    {
        return HexFormat.of().formatHex(bytes);
    }

    /**
     * 8 hex digits that identify the key without revealing it (HMAC of a fixed label): two ranks with different
     * fingerprints hold different keys.
     */
    public String fingerprint()
    {
        final byte[] tag = newMac().doFinal("baton-stage-key-fingerprint".getBytes(StandardCharsets.US_ASCII));
        return HexFormat.of().formatHex(tag, 0, 4);
    }

    /** A new HMAC-SHA256 keyed with this key (a Mac is not thread safe: one per user). */
    Mac newMac()
    {
        try
        {
            final Mac mac = Mac.getInstance(MAC_ALGORITHM);
            mac.init(new SecretKeySpec(bytes, MAC_ALGORITHM));
            return mac;
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IllegalStateException(MAC_ALGORITHM + " is not available in this JVM", ex);
        }
    }

    @Override
    public boolean equals(final Object other)
    {
        return other instanceof StageKey && java.security.MessageDigest.isEqual(bytes, ((StageKey)other).bytes);
    }

    @Override
    public int hashCode()
    {
        return java.util.Arrays.hashCode(bytes);
    }

    @Override
    public String toString()
    {
        return "StageKey{fingerprint=" + fingerprint() + "}";
    }
}
