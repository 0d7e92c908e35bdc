package io.baton.common.collective;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;

/** Kryo (registration required) encoding of control messages: the connect handshake. Not thread safe. */
final class ControlCodec
{
    /** First message each rank sends each peer: who it is and the layout it will use. */
    static final class Hello
    {
        String jobId;
        long generation;
        int rank;
        int worldSize;
        int chunkFloats;
        int smallThresholdBytes;

        Hello()
        {
        }

        Hello(final String jobId, final long generation, final int rank, final int worldSize,
            final int chunkFloats, final int smallThresholdBytes)
        {
            this.jobId = jobId;
            this.generation = generation;
            this.rank = rank;
            this.worldSize = worldSize;
            this.chunkFloats = chunkFloats;
            this.smallThresholdBytes = smallThresholdBytes;
        }
    }

    private final Kryo kryo = new Kryo();
    private final Output output = new Output(256, 64 * 1024);

    ControlCodec()
    {
        kryo.setRegistrationRequired(true);
        kryo.register(Hello.class, 20);
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
