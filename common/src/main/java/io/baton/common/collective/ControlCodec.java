package io.baton.common.collective;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;

/**
 * Kryo (registration required) encoding of control messages: the connect handshake. Decodes only bytes whose
 * {@link MessageAuth} tag verified, never a stranger's. Not thread safe.
 */
final class ControlCodec
{
    /**
     * First message each rank sends each peer: who it is, the layout it will use, its nonce and the receiver's nonce
     * as far as it knows it (empty until it received an authenticated Hello from the receiver).
     */
    static final class Hello
    {
        String jobId;
        long generation;
        int rank;
        int receiver;
        int worldSize;
        int chunkFloats;
        int smallThresholdBytes;
        byte[] nonce;
        byte[] echo;

        Hello()
        {
        }

        Hello(final String jobId, final long generation, final int rank, final int receiver, final int worldSize,
            final int chunkFloats, final int smallThresholdBytes, final byte[] nonce, final byte[] echo)
        {
            this.jobId = jobId;
            this.generation = generation;
            this.rank = rank;
            this.receiver = receiver;
            this.worldSize = worldSize;
            this.chunkFloats = chunkFloats;
            this.smallThresholdBytes = smallThresholdBytes;
            this.nonce = nonce;
            this.echo = echo;
        }
    }

    private final Kryo kryo = new Kryo();
    private final Output output = new Output(256, 64 * 1024);

    ControlCodec()
    {
        kryo.setRegistrationRequired(true);
        kryo.register(Hello.class, 21);
        kryo.register(byte[].class, 22);
    }

    byte[] encode(final Object message)
    {
        output.reset();
        kryo.writeClassAndObject(output, message);
        return output.toBytes();
    }

    Object decode(final byte[] bytes)
    {
        return kryo.readClassAndObject(new Input(bytes));
    }
}
