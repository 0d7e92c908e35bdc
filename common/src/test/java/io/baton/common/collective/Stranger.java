package io.baton.common.collective;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Knows a job's name, generation, its ranks' UDP ports and IPC stream ids, not the stage key. Publishes to every rank:
 * Hellos under its own key (well formed, claiming the rank's neighbour), heartbeats with a forged tag, and ring and
 * all-to-all fragments of sequences 0..63 claiming the neighbour, full of 1e30.
 *
 * <p>Used in the test's JVM ({@link AeronAuthenticationTest}, an Aeron client of the ranks' driver) and as a process of
 * its own ({@link #main}, {@link AeronStrangerProcessTest}): {@code UDP|IPC job generation chunkBytes ports} (ports
 * comma separated); with UDP it runs an embedded driver of its own and sends to 127.0.0.1, with IPC it uses the
 * host-shared driver in {@code -Dstranger.sharedDriverDir=DIR}. It prints {@code READY} once its publications are
 * added, publishes until its standard input ends, then prints {@code PUBLISHED n} (messages the driver took).
 */
public final class Stranger
{
    private final CollectiveSettings settings;
    private final List<PeerEndpoint> peers;
    private final String dir;
    private final String job;
    private final long generation;
    private final StageKey wrongKey = StageKey.random();
    /** Runs this JVM's embedded driver's duty cycle between sends (when it is the stranger's own, in its process). */
    private boolean invokeDriver;

    Stranger(final CollectiveSettings settings, final List<PeerEndpoint> peers, final String dir, final String job,
        final long generation)
    {
        this.settings = settings;
        this.peers = peers;
        this.dir = dir;
        this.job = job;
        this.generation = generation;
    }

    public static void main(final String[] args) throws Exception
    {
        final CollectiveSettings.Transport transport = CollectiveSettings.Transport.valueOf(args[0]);
        final String job = args[1];
        final long generation = Long.parseLong(args[2]);
        final int chunkBytes = Integer.parseInt(args[3]);
        final int[] ports = Arrays.stream(args[4].split(",")).mapToInt(Integer::parseInt).toArray();
        final String sharedDir = System.getProperty("stranger.sharedDriverDir");
        final CollectiveSettings.Builder builder = CollectiveTestSupport.testSettings().transport(transport)
            .chunkBytes(chunkBytes);
        final CollectiveSettings settings = transport == CollectiveSettings.Transport.IPC
            ? builder.driverMode(CollectiveSettings.DriverMode.SHARED).externalDriverDirectory(sharedDir).build()
            : builder.build();
        final AtomicBoolean stop = new AtomicBoolean();
        final Thread stdin = new Thread(() ->
        {
            try (InputStream in = System.in)
            {
                while (in.read() >= 0)
                {
                    // the test closes our standard input to stop us
                }
            }
            catch (final IOException ignored)
            {
                // closed
            }
            stop.set(true);
        }, "stranger-stdin");
        stdin.setDaemon(true);
        stdin.start();
        final AtomicLong published = new AtomicLong();
        final List<PeerEndpoint> peers = CollectiveTestSupport.localEndpoints(settings, ports);
        if (transport == CollectiveSettings.Transport.IPC)
        {
            final SharedDriver.Lease lease = SharedDriver.acquire(settings);
            new Stranger(settings, peers, lease.directory().getPath(), job, generation)
                .publishUntil(stop, published, () ->
                {
                    lease.close();
                    System.out.println("READY");
                    System.out.flush();
                });
        }
        else
        {
            final String directory = EmbeddedDriver.acquire(settings);
            try
            {
                final Stranger stranger = new Stranger(settings, peers, directory, job, generation);
                stranger.invokeDriver = true;
                stranger.publishUntil(stop, published, () ->
                {
                    System.out.println("READY");
                    System.out.flush();
                });
            }
            finally
            {
                EmbeddedDriver.release();
            }
        }
        System.out.println("PUBLISHED " + published.get());
        System.out.flush();
    }

    void publishUntil(final AtomicBoolean stop, final AtomicLong published) throws InterruptedException
    {
        publishUntil(stop, published, () -> { });
    }

    /** Publishes until {@code stop}; {@code ready} runs once the publications are added. */
    void publishUntil(final AtomicBoolean stop, final AtomicLong published, final Runnable ready)
        throws InterruptedException
    {
        final int worldSize = peers.size();
        final long jobHash = WireFormat.jobHash(job);
        final boolean ipc = settings.transport() == CollectiveSettings.Transport.IPC;
        try (Aeron aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(dir)))
        {
            final ExclusivePublication[] publications = new ExclusivePublication[worldSize];
            for (int r = 0; r < worldSize; r++)
            {
                publications[r] = ipc
                    ? aeron.addExclusivePublication("aeron:ipc?term-length=" + settings.termLength(),
                        AeronCommunicator.ipcStreamId(settings, jobHash, r))
                    : aeron.addExclusivePublication("aeron:udp?endpoint=127.0.0.1:" + peers.get(r).port() +
                        "|term-length=" + settings.termLength(), settings.streamId());
            }
            ready.run();
            final int chunk = settings.chunkFloats() * Float.BYTES;
            final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(WireFormat.HEADER_LENGTH + chunk));
            final float[] poison = new float[settings.chunkFloats()];
            Arrays.fill(poison, 1e30f);
            buffer.putBytes(WireFormat.HEADER_LENGTH, floatBytes(poison));
            final Random random = new Random(7);
            long seq = 0;
            while (!stop.get())
            {
                for (int r = 0; r < worldSize; r++)
                {
                    final int claimed = (r + worldSize - 1) % worldSize;
                    final byte[] hello = wrongHello(claimed, r, worldSize);
                    offer(publications[r], new UnsafeBuffer(hello), hello.length, published);
                    final UnsafeBuffer heartbeat = new UnsafeBuffer(new byte[WireFormat.HEADER_LENGTH +
                        MessageAuth.TAG_LENGTH]);
                    WireFormat.encode(heartbeat, 0, WireFormat.TYPE_HEARTBEAT, jobHash, generation, seq, claimed, 0, 0,
                        worldSize);
                    final byte[] tag = new byte[MessageAuth.TAG_LENGTH];
                    random.nextBytes(tag);
                    heartbeat.putBytes(WireFormat.HEADER_LENGTH, tag);
                    offer(publications[r], heartbeat, heartbeat.capacity(), published);
                    for (int step = 0; step < 2; step++)
                    {
                        WireFormat.encode(buffer, 0, WireFormat.TYPE_RING, jobHash, generation, seq, claimed, step, 0,
                            worldSize);
                        offer(publications[r], buffer, buffer.capacity(), published);
                    }
                    WireFormat.encode(buffer, 0, WireFormat.TYPE_ALL_TO_ALL, jobHash, generation, seq, claimed, 0, 0,
                        worldSize);
                    offer(publications[r], buffer, WireFormat.HEADER_LENGTH + 1024, published);
                }
                seq = (seq + 1) % 64;
                if (invokeDriver)
                {
                    EmbeddedDriver.invoke();
                }
                Thread.sleep(0, 200_000);
            }
            for (final ExclusivePublication publication : publications)
            {
                publication.close();
            }
        }
    }

    /** A well-formed Hello of {@code claimed} to {@code receiver}, tagged with the stranger's own key. */
    private byte[] wrongHello(final int claimed, final int receiver, final int worldSize)
    {
        return hello(settings, wrongKey, job, generation, claimed, receiver, worldSize, new byte[16]);
    }

    /**
     * A first Hello (echoing no nonce) of {@code claimed} to {@code receiver} with {@code nonce}, under {@code key}'s
     * tag: what a rank of that job, generation and key sends when it connects.
     */
    static byte[] hello(final CollectiveSettings settings, final StageKey key, final String job, final long generation,
        final int claimed, final int receiver, final int worldSize, final byte[] nonce)
    {
        final byte[] encoded = new ControlCodec().encode(new ControlCodec.Hello(job, generation, claimed, receiver,
            worldSize, settings.chunkFloats(), settings.smallThresholdBytes(), nonce, new byte[0]));
        final byte[] fingerprint = HexFormat.of().parseHex(key.fingerprint());
        final byte[] message = new byte[WireFormat.HEADER_LENGTH + fingerprint.length + encoded.length +
            MessageAuth.TAG_LENGTH];
        final UnsafeBuffer buffer = new UnsafeBuffer(message);
        WireFormat.encode(buffer, 0, WireFormat.TYPE_HELLO, WireFormat.jobHash(job), generation, -1, claimed, 1, 0,
            worldSize);
        buffer.putBytes(WireFormat.HEADER_LENGTH, fingerprint);
        buffer.putBytes(WireFormat.HEADER_LENGTH + fingerprint.length, encoded);
        new MessageAuth(key).sign(buffer, 0, message.length - MessageAuth.TAG_LENGTH);
        return message;
    }

    private static void offer(final ExclusivePublication publication, final UnsafeBuffer buffer, final int length,
        final AtomicLong published)
    {
        if (publication.offer(buffer, 0, length) > 0)
        {
            published.incrementAndGet();
        }
    }

    private static byte[] floatBytes(final float[] values)
    {
        final ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES)
            .order(java.nio.ByteOrder.nativeOrder());
        bytes.asFloatBuffer().put(values);
        return bytes.array();
    }
}
