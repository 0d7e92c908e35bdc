package io.baton.common.collective;

import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Immutable settings of the Aeron collective layer. Build with {@link #builder()}; {@link Builder#build()}
 * calls {@link #validate()}, which throws {@link IllegalArgumentException} naming the setting and the bad value.
 *
 * <p>Every setting has one javadoc line on its accessor, its default in {@code DEFAULT_*} and a builder method
 * of the same name, so a configuration surface can map keys onto it one to one.
 */
public final class CollectiveSettings
{
    /** How messages travel between ranks. */
    public enum Transport
    {
        /** Aeron UDP unicast to each peer's host:port. */
        UDP,
        /** Aeron IPC: every peer must share this host and this media driver (same driver directory). */
        IPC,
        /** IPC to each peer that shares this host and driver, UDP to the others. */
        AUTO,
        /** Never a setting: what AUTO resolved to when some peers are reached over IPC and the others over UDP. */
        MIXED
    }

    /** Where the Aeron media driver runs. */
    public enum DriverMode
    {
        /** One driver per JVM, shared (reference counted) by its communicators, in a temp directory removed on close. */
        EMBEDDED,
        /** A driver already running with directory {@link #externalDriverDirectory()}; never started or removed. */
        EXTERNAL,
        /**
         * One driver process per host, started by the first JVM that needs it and used by all Baton JVMs of the
         * host, in {@link #externalDriverDirectory()} if set, else {@code baton-aeron-<user>} under
         * {@link #embeddedDriverParentDirectory()}; it exits {@link #sharedDriverIdleExitNs()} after its last
         * client left. Replicas on one host then talk to each other over IPC (transport AUTO).
         */
        SHARED
    }

    /** Idle strategy used by the caller's thread while waiting (it also runs the embedded driver's duty cycle). */
    public enum IdleKind
    {
        /** Spin, then yield, then park from {@link #idleMinParkNs()} doubling up to {@link #idleMaxParkNs()}. */
        BACKOFF,
        /** Thread.yield() between polls. */
        YIELDING,
        /** Park for {@link #idleMaxParkNs()} between polls. */
        SLEEPING,
        /** Busy spin: halves throughput on a 2-core machine; only for machines with spare cores. */
        BUSY_SPIN
    }

    /**
     * What the ring all-reduce puts on the wire (broadcasts, the small all-reduce and all-gathers always send exact
     * values). With FP16 or BF16 every ring message carries 2-byte values, rounded to nearest even from the float
     * partial sums; the receiver widens them and accumulates in float. The owner of each segment rounds its finished
     * sum the same way before the all-gather distributes it, so every rank still ends with the same bits.
     */
    public enum Compression
    {
        /** 4-byte floats, exact. */
        NONE(Float.BYTES),
        /** IEEE 754 half precision: 11-bit significand, range +-65504 (larger sums become infinite). */
        FP16(2),
        /** bfloat16: float's range, 8-bit significand. */
        BF16(2);

        private final int wireBytes;

        Compression(final int wireBytes)
        {
            this.wireBytes = wireBytes;
        }

        /** Bytes per value on the wire. */
        public int wireBytes()
        {
            return wireBytes;
        }
    }

    public static final Transport DEFAULT_TRANSPORT = Transport.AUTO;
    public static final Compression DEFAULT_COMPRESSION = Compression.NONE;
    public static final String DEFAULT_BIND_HOST = "0.0.0.0";
    public static final int DEFAULT_BASE_PORT = 40_700;
    public static final int DEFAULT_STREAM_ID = 0x0BA7;
    /** 8 MB: 3 x 8 MB per publication (plus the same per receiving image over UDP) keeps a peer's logs at 48 MB on UDP,
     * inside the 64 MB budget; 8 vs 16 MB terms made no throughput difference beyond noise (docs/BENCHMARKS.md). */
    public static final int DEFAULT_TERM_LENGTH = 8 * 1024 * 1024;
    public static final int DEFAULT_MTU_LENGTH = 65_504;
    public static final int DEFAULT_SOCKET_BUFFER_LENGTH = 4 * 1024 * 1024;
    public static final int DEFAULT_RECEIVE_WINDOW_LENGTH = 4 * 1024 * 1024;
    public static final IdleKind DEFAULT_IDLE = IdleKind.BACKOFF;
    public static final long DEFAULT_IDLE_MAX_SPINS = 200;
    /** Yields before parking: a waiting rank stays responsive for ~1 ms (a yield costs nothing when no other
     * thread wants the core); 50 yields then 100 us parks made 16-64 KB all-reduces 2-5x slower (docs/BENCHMARKS.md). */
    public static final long DEFAULT_IDLE_MAX_YIELDS = 2000;
    public static final long DEFAULT_IDLE_MIN_PARK_NS = TimeUnit.MICROSECONDS.toNanos(1);
    /** Longest park while waiting in a collective (the wake-up latency a message can meet once yields ran out). */
    public static final long DEFAULT_IDLE_MAX_PARK_NS = TimeUnit.MICROSECONDS.toNanos(20);
    public static final long DEFAULT_OPERATION_DEADLINE_NS = TimeUnit.SECONDS.toNanos(30);
    public static final long DEFAULT_CONNECT_DEADLINE_NS = TimeUnit.SECONDS.toNanos(30);
    /** Payloads up to this many bytes use the one-hop all-to-all, larger ones the ring. Measured crossover at 2
     * processes (docs/BENCHMARKS.md): equal at 2 KB on UDP and IPC; at 4 KB the ring is as fast on UDP and 3x faster on
     * IPC; at 16-64 KB the ring is 1.6-4x faster. */
    public static final int DEFAULT_SMALL_THRESHOLD_BYTES = 2 * 1024;
    /** Largest chunk that fits one 65504-byte frame with Aeron's and Baton's headers. */
    public static final int DEFAULT_CHUNK_BYTES = 65_504 - 32 - WireFormat.HEADER_LENGTH;
    public static final DriverMode DEFAULT_DRIVER_MODE = DriverMode.EMBEDDED;
    /** How long a host-shared driver stays up without clients: long enough to outlive a restart between stages. */
    public static final long DEFAULT_SHARED_DRIVER_IDLE_EXIT_NS = TimeUnit.SECONDS.toNanos(30);

    private final Transport transport;
    private final String bindHost;
    private final int basePort;
    private final int streamId;
    private final int termLength;
    private final int mtuLength;
    private final int socketSendBufferLength;
    private final int socketReceiveBufferLength;
    private final int receiveWindowLength;
    private final IdleKind idle;
    private final long idleMaxSpins;
    private final long idleMaxYields;
    private final long idleMinParkNs;
    private final long idleMaxParkNs;
    private final long operationDeadlineNs;
    private final long connectDeadlineNs;
    private final int smallThresholdBytes;
    private final int chunkBytes;
    private final Compression compression;
    private final DriverMode driverMode;
    private final String externalDriverDirectory;
    private final String embeddedDriverParentDirectory;
    private final long sharedDriverIdleExitNs;
    private final long embeddedDriverLingerNs;

    private CollectiveSettings(final Builder b)
    {
        transport = b.transport;
        bindHost = b.bindHost;
        basePort = b.basePort;
        streamId = b.streamId;
        termLength = b.termLength;
        mtuLength = b.mtuLength;
        socketSendBufferLength = b.socketSendBufferLength;
        socketReceiveBufferLength = b.socketReceiveBufferLength;
        receiveWindowLength = b.receiveWindowLength;
        idle = b.idle;
        idleMaxSpins = b.idleMaxSpins;
        idleMaxYields = b.idleMaxYields;
        idleMinParkNs = b.idleMinParkNs;
        idleMaxParkNs = b.idleMaxParkNs;
        operationDeadlineNs = b.operationDeadlineNs;
        connectDeadlineNs = b.connectDeadlineNs;
        smallThresholdBytes = b.smallThresholdBytes;
        chunkBytes = b.chunkBytes;
        compression = b.compression;
        driverMode = b.driverMode;
        externalDriverDirectory = b.externalDriverDirectory;
        embeddedDriverParentDirectory = b.embeddedDriverParentDirectory;
        sharedDriverIdleExitNs = b.sharedDriverIdleExitNs;
        embeddedDriverLingerNs = b.embeddedDriverLingerNs;
    }

    public static Builder builder()
    {
        return new Builder();
    }

    /** A builder initialised from these settings. */
    public Builder toBuilder()
    {
        final Builder b = new Builder();
        b.transport = transport;
        b.bindHost = bindHost;
        b.basePort = basePort;
        b.streamId = streamId;
        b.termLength = termLength;
        b.mtuLength = mtuLength;
        b.socketSendBufferLength = socketSendBufferLength;
        b.socketReceiveBufferLength = socketReceiveBufferLength;
        b.receiveWindowLength = receiveWindowLength;
        b.idle = idle;
        b.idleMaxSpins = idleMaxSpins;
        b.idleMaxYields = idleMaxYields;
        b.idleMinParkNs = idleMinParkNs;
        b.idleMaxParkNs = idleMaxParkNs;
        b.operationDeadlineNs = operationDeadlineNs;
        b.connectDeadlineNs = connectDeadlineNs;
        b.smallThresholdBytes = smallThresholdBytes;
        b.chunkBytes = chunkBytes;
        b.compression = compression;
        b.driverMode = driverMode;
        b.externalDriverDirectory = externalDriverDirectory;
        b.embeddedDriverParentDirectory = embeddedDriverParentDirectory;
        b.sharedDriverIdleExitNs = sharedDriverIdleExitNs;
        b.embeddedDriverLingerNs = embeddedDriverLingerNs;
        return b;
    }

    /** Transport: UDP, IPC or AUTO (IPC to each peer that shares this host and driver, UDP to others); default AUTO. */
    public Transport transport()
    {
        return transport;
    }

    /** Interface address the UDP subscription binds to (the rendezvous publishes a reachable host); default 0.0.0.0. */
    public String bindHost()
    {
        return bindHost;
    }

    /** Base UDP port: rank r listens on basePort + r unless the rendezvous says otherwise; default 40700. */
    public int basePort()
    {
        return basePort;
    }

    /**
     * Aeron stream id for UDP. IPC uses streamId + 4096 x (a slot from the job id) + receiving rank, so jobs sharing
     * a driver over IPC keep apart.
     */
    public int streamId()
    {
        return streamId;
    }

    /** Aeron term length in bytes (power of two, 64 KB..1 GB); each publication maps 3 terms; default 8 MB. */
    public int termLength()
    {
        return termLength;
    }

    /** Aeron MTU in bytes (multiple of 32, 1408..65504); also the largest single data message; default 65504. */
    public int mtuLength()
    {
        return mtuLength;
    }

    /** UDP SO_SNDBUF in bytes (capped by net.core.wmem_max); default 4 MB. */
    public int socketSendBufferLength()
    {
        return socketSendBufferLength;
    }

    /** UDP SO_RCVBUF in bytes (capped by net.core.rmem_max); default 4 MB. */
    public int socketReceiveBufferLength()
    {
        return socketReceiveBufferLength;
    }

    /** Aeron receiver window in bytes; must not exceed the receive buffer; default 4 MB. */
    public int receiveWindowLength()
    {
        return receiveWindowLength;
    }

    /** Idle strategy while waiting; default BACKOFF (never busy-spin by default). */
    public IdleKind idle()
    {
        return idle;
    }

    /** BACKOFF: spins before yielding; default 200. */
    public long idleMaxSpins()
    {
        return idleMaxSpins;
    }

    /** BACKOFF: yields before parking; default 50. */
    public long idleMaxYields()
    {
        return idleMaxYields;
    }

    /** BACKOFF: first park in ns; default 1 us. */
    public long idleMinParkNs()
    {
        return idleMinParkNs;
    }

    /** BACKOFF/SLEEPING: longest park in ns; default 100 us. */
    public long idleMaxParkNs()
    {
        return idleMaxParkNs;
    }

    /** Deadline of one collective operation in ns: past it every rank fails with CollectiveException; default 30 s. */
    public long operationDeadlineNs()
    {
        return operationDeadlineNs;
    }

    /** Deadline of the connect handshake in ns (all peers started and reachable); default 30 s. */
    public long connectDeadlineNs()
    {
        return connectDeadlineNs;
    }

    /** Byte size up to which all-reduce uses the one-hop all-to-all instead of the ring; default 64 KB. */
    public int smallThresholdBytes()
    {
        return smallThresholdBytes;
    }

    /** Bytes of data per ring message (the pipelining unit), at most one MTU minus headers; default fills the MTU. */
    public int chunkBytes()
    {
        return chunkBytes;
    }

    /** What the ring all-reduce sends: NONE (floats), FP16 or BF16 (half the bytes); default NONE. */
    public Compression compression()
    {
        return compression;
    }

    /** EMBEDDED (one driver per JVM, temp directory removed on close), EXTERNAL or SHARED; default EMBEDDED. */
    public DriverMode driverMode()
    {
        return driverMode;
    }

    /** Directory of the external driver (EXTERNAL, required) or of the host-shared driver (SHARED, optional). */
    public String externalDriverDirectory()
    {
        return externalDriverDirectory;
    }

    /** Parent of the embedded driver's temp directory; default /dev/shm if present, else java.io.tmpdir. */
    public String embeddedDriverParentDirectory()
    {
        return embeddedDriverParentDirectory;
    }

    /** SHARED mode: the driver process exits once it has had no client for this long; default 30 s. */
    public long sharedDriverIdleExitNs()
    {
        return sharedDriverIdleExitNs;
    }

    /**
     * EMBEDDED mode: how long the JVM's driver keeps running after its last communicator closed, for the next one
     * (the next stage or fit in this JVM) to use instead of starting one; default 0 (closed with the last).
     */
    public long embeddedDriverLingerNs()
    {
        return embeddedDriverLingerNs;
    }

    /** Bytes of data that fit one ring message: min(chunkBytes, MTU - headers), rounded down to whole floats. */
    int chunkFloats()
    {
        final int maxData = mtuLength - 32 - WireFormat.HEADER_LENGTH;
        return Math.min(chunkBytes, maxData) / Float.BYTES;
    }

    /**
     * Checks every setting and the cross checks between them.
     *
     * @return this
     * @throws IllegalArgumentException naming the setting and its bad value.
     */
    public CollectiveSettings validate()
    {
        require(transport != null && transport != Transport.MIXED, "transport", transport,
            "must be UDP, IPC or AUTO");
        require(driverMode != null, "driverMode", driverMode, "must be set");
        require(idle != null, "idle", idle, "must be set");
        require(compression != null, "compression", compression, "must be set");
        require(bindHost != null && !bindHost.isBlank(), "bindHost", bindHost, "must be a host or address");
        require(basePort > 0 && basePort < 65_536, "basePort", basePort, "must be in 1..65535");
        require(streamId > 0 && streamId <= 90_000_000, "streamId", streamId,
            "must be in 1..90000000 (IPC stream ids are streamId + up to 2,048,000,000)");
        require(termLength >= 64 * 1024 && termLength <= 1 << 30 && Integer.bitCount(termLength) == 1,
            "termLength", termLength, "must be a power of two in 65536..1073741824");
        require(mtuLength >= 1408 && mtuLength <= 65_504 && mtuLength % 32 == 0,
            "mtuLength", mtuLength, "must be a multiple of 32 in 1408..65504");
        require(mtuLength <= termLength / 8, "mtuLength", mtuLength, "must be <= termLength/8=" + termLength / 8);
        require(socketSendBufferLength >= 0, "socketSendBufferLength", socketSendBufferLength, "must be >= 0");
        require(socketReceiveBufferLength >= 0, "socketReceiveBufferLength", socketReceiveBufferLength,
            "must be >= 0");
        require(receiveWindowLength >= mtuLength, "receiveWindowLength", receiveWindowLength,
            "must be >= mtuLength=" + mtuLength);
        require(socketReceiveBufferLength == 0 || receiveWindowLength <= socketReceiveBufferLength,
            "receiveWindowLength", receiveWindowLength,
            "must be <= socketReceiveBufferLength=" + socketReceiveBufferLength + " (Aeron refuses a larger window)");
        require(idleMaxSpins >= 0, "idleMaxSpins", idleMaxSpins, "must be >= 0");
        require(idleMaxYields >= 0, "idleMaxYields", idleMaxYields, "must be >= 0");
        require(idleMinParkNs > 0, "idleMinParkNs", idleMinParkNs, "must be > 0");
        require(idleMaxParkNs >= idleMinParkNs, "idleMaxParkNs", idleMaxParkNs,
            "must be >= idleMinParkNs=" + idleMinParkNs);
        require(operationDeadlineNs >= TimeUnit.MILLISECONDS.toNanos(100), "operationDeadlineNs",
            operationDeadlineNs, "must be >= 100 ms");
        require(connectDeadlineNs >= TimeUnit.MILLISECONDS.toNanos(100), "connectDeadlineNs",
            connectDeadlineNs, "must be >= 100 ms");
        require(smallThresholdBytes >= 0, "smallThresholdBytes", smallThresholdBytes, "must be >= 0");
        require(smallThresholdBytes <= termLength / 8 - WireFormat.HEADER_LENGTH, "smallThresholdBytes",
            smallThresholdBytes, "must be <= termLength/8 - " + WireFormat.HEADER_LENGTH + "=" +
            (termLength / 8 - WireFormat.HEADER_LENGTH) + " (largest Aeron message)");
        require(chunkBytes >= 1024 && chunkBytes % Float.BYTES == 0 && chunkBytes % Double.BYTES == 0,
            "chunkBytes", chunkBytes, "must be a multiple of 8 and >= 1024");
        require(driverMode != DriverMode.EXTERNAL || (externalDriverDirectory != null &&
            !externalDriverDirectory.isBlank()), "externalDriverDirectory", externalDriverDirectory,
            "must be set when driverMode=EXTERNAL");
        require(externalDriverDirectory == null || !externalDriverDirectory.isBlank(), "externalDriverDirectory",
            externalDriverDirectory, "must not be blank");
        require(sharedDriverIdleExitNs >= TimeUnit.MILLISECONDS.toNanos(100), "sharedDriverIdleExitNs",
            sharedDriverIdleExitNs, "must be >= 100 ms");
        require(embeddedDriverLingerNs >= 0, "embeddedDriverLingerNs", embeddedDriverLingerNs, "must be >= 0");
        return this;
    }

    private static void require(final boolean ok, final String name, final Object value, final String rule)
    {
        if (!ok)
        {
            throw new IllegalArgumentException("collective setting " + name + "=" + value + ": " + rule);
        }
    }

    @Override
    public String toString()
    {
        return "CollectiveSettings{transport=" + transport + ", bindHost=" + bindHost + ", basePort=" + basePort +
            ", streamId=" + streamId + ", termLength=" + termLength + ", mtuLength=" + mtuLength +
            ", socketSendBufferLength=" + socketSendBufferLength + ", socketReceiveBufferLength=" +
            socketReceiveBufferLength + ", receiveWindowLength=" + receiveWindowLength + ", idle=" + idle +
            ", operationDeadlineNs=" + operationDeadlineNs + ", smallThresholdBytes=" + smallThresholdBytes +
            ", chunkBytes=" + chunkBytes + ", compression=" + compression + ", driverMode=" + driverMode +
            ", externalDriverDirectory=" + externalDriverDirectory + "}";
    }

    /** Mutable builder; {@link #build()} validates. */
    public static final class Builder
    {
        private Transport transport = DEFAULT_TRANSPORT;
        private String bindHost = DEFAULT_BIND_HOST;
        private int basePort = DEFAULT_BASE_PORT;
        private int streamId = DEFAULT_STREAM_ID;
        private int termLength = DEFAULT_TERM_LENGTH;
        private int mtuLength = DEFAULT_MTU_LENGTH;
        private int socketSendBufferLength = DEFAULT_SOCKET_BUFFER_LENGTH;
        private int socketReceiveBufferLength = DEFAULT_SOCKET_BUFFER_LENGTH;
        private int receiveWindowLength = DEFAULT_RECEIVE_WINDOW_LENGTH;
        private IdleKind idle = DEFAULT_IDLE;
        private long idleMaxSpins = DEFAULT_IDLE_MAX_SPINS;
        private long idleMaxYields = DEFAULT_IDLE_MAX_YIELDS;
        private long idleMinParkNs = DEFAULT_IDLE_MIN_PARK_NS;
        private long idleMaxParkNs = DEFAULT_IDLE_MAX_PARK_NS;
        private long operationDeadlineNs = DEFAULT_OPERATION_DEADLINE_NS;
        private long connectDeadlineNs = DEFAULT_CONNECT_DEADLINE_NS;
        private int smallThresholdBytes = DEFAULT_SMALL_THRESHOLD_BYTES;
        private int chunkBytes = DEFAULT_CHUNK_BYTES;
        private Compression compression = DEFAULT_COMPRESSION;
        private DriverMode driverMode = DEFAULT_DRIVER_MODE;
        private String externalDriverDirectory;
        private String embeddedDriverParentDirectory = defaultDriverParent();
        private long sharedDriverIdleExitNs = DEFAULT_SHARED_DRIVER_IDLE_EXIT_NS;
        private long embeddedDriverLingerNs;

        private Builder()
        {
        }

        private static String defaultDriverParent()
        {
            final java.io.File shm = new java.io.File("/dev/shm");
            return shm.isDirectory() && shm.canWrite() ? shm.getPath() : System.getProperty("java.io.tmpdir");
        }

        public Builder transport(final Transport transport)
        {
            this.transport = transport;
            return this;
        }

        public Builder bindHost(final String bindHost)
        {
            this.bindHost = bindHost;
            return this;
        }

        public Builder basePort(final int basePort)
        {
            this.basePort = basePort;
            return this;
        }

        public Builder streamId(final int streamId)
        {
            this.streamId = streamId;
            return this;
        }

        public Builder termLength(final int termLength)
        {
            this.termLength = termLength;
            return this;
        }

        public Builder mtuLength(final int mtuLength)
        {
            this.mtuLength = mtuLength;
            return this;
        }

        public Builder socketSendBufferLength(final int socketSendBufferLength)
        {
            this.socketSendBufferLength = socketSendBufferLength;
            return this;
        }

        public Builder socketReceiveBufferLength(final int socketReceiveBufferLength)
        {
            this.socketReceiveBufferLength = socketReceiveBufferLength;
            return this;
        }

        public Builder receiveWindowLength(final int receiveWindowLength)
        {
            this.receiveWindowLength = receiveWindowLength;
            return this;
        }

        public Builder idle(final IdleKind idle)
        {
            this.idle = idle;
            return this;
        }

        public Builder idleMaxSpins(final long idleMaxSpins)
        {
            this.idleMaxSpins = idleMaxSpins;
            return this;
        }

        public Builder idleMaxYields(final long idleMaxYields)
        {
            this.idleMaxYields = idleMaxYields;
            return this;
        }

        public Builder idleMinParkNs(final long idleMinParkNs)
        {
            this.idleMinParkNs = idleMinParkNs;
            return this;
        }

        public Builder idleMaxParkNs(final long idleMaxParkNs)
        {
            this.idleMaxParkNs = idleMaxParkNs;
            return this;
        }

        public Builder operationDeadlineNs(final long operationDeadlineNs)
        {
            this.operationDeadlineNs = operationDeadlineNs;
            return this;
        }

        public Builder connectDeadlineNs(final long connectDeadlineNs)
        {
            this.connectDeadlineNs = connectDeadlineNs;
            return this;
        }

        public Builder smallThresholdBytes(final int smallThresholdBytes)
        {
            this.smallThresholdBytes = smallThresholdBytes;
            return this;
        }

        public Builder chunkBytes(final int chunkBytes)
        {
            this.chunkBytes = chunkBytes;
            return this;
        }

        public Builder compression(final Compression compression)
        {
            this.compression = compression;
            return this;
        }

        public Builder driverMode(final DriverMode driverMode)
        {
            this.driverMode = driverMode;
            return this;
        }

        public Builder externalDriverDirectory(final String externalDriverDirectory)
        {
            this.externalDriverDirectory = externalDriverDirectory;
            return this;
        }

        public Builder sharedDriverIdleExitNs(final long sharedDriverIdleExitNs)
        {
            this.sharedDriverIdleExitNs = sharedDriverIdleExitNs;
            return this;
        }

        public Builder embeddedDriverLingerNs(final long embeddedDriverLingerNs)
        {
            this.embeddedDriverLingerNs = embeddedDriverLingerNs;
            return this;
        }

        public Builder embeddedDriverParentDirectory(final String embeddedDriverParentDirectory)
        {
            this.embeddedDriverParentDirectory = Objects.requireNonNull(embeddedDriverParentDirectory);
            return this;
        }

        /** Builds and validates. */
        public CollectiveSettings build()
        {
            return new CollectiveSettings(this).validate();
        }
    }
}
