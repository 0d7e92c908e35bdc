package io.baton.common.collective;

import java.security.MessageDigest;

import javax.crypto.Mac;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * HMAC-SHA256 tags of control messages under a {@link StageKey}: a message of {@code length} bytes is followed by
 * the {@link #TAG_LENGTH}-byte tag of those bytes (its Baton header included). Not thread safe: one per communicator.
 */
final class MessageAuth
{
    static final int TAG_LENGTH = 32;

    private final Mac mac;
    private final byte[] tag = new byte[TAG_LENGTH];
    private byte[] scratch = new byte[256];

    MessageAuth(final StageKey key)
    {
        this.mac = key.newMac();
    }

    /** Writes the tag of {@code buffer[offset, offset + length)} at {@code offset + length}. */
    void sign(final MutableDirectBuffer buffer, final int offset, final int length)
    {
        buffer.putBytes(offset + length, tag(buffer, offset, length));
    }

    /** The tag of {@code header[0, headerLength)} followed by {@code body}. */
    byte[] tag(final DirectBuffer header, final int headerLength, final byte[] body)
    {
        mac.update(copy(header, 0, headerLength), 0, headerLength);
        mac.update(body);
        return mac.doFinal();
    }

    /** True when the last {@link #TAG_LENGTH} bytes of {@code buffer[offset, offset + length)} tag the others. */
    boolean verify(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < TAG_LENGTH)
        {
            return false;
        }
        final byte[] expected = tag(buffer, offset, length - TAG_LENGTH);
        buffer.getBytes(offset + length - TAG_LENGTH, tag);
        return MessageDigest.isEqual(expected, tag);
    }

    private byte[] tag(final DirectBuffer buffer, final int offset, final int length)
    {
        mac.update(copy(buffer, offset, length), 0, length);
        return mac.doFinal();
    }

    private byte[] copy(final DirectBuffer buffer, final int offset, final int length)
    {
        if (scratch.length < length)
        {
            scratch = new byte[Math.max(length, 2 * scratch.length)];
        }
        buffer.getBytes(offset, scratch, 0, length);
        return scratch;
    }
}
