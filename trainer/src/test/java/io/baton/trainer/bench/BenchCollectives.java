package io.baton.trainer.bench;

import io.baton.common.collective.AeronCommunicator;
import io.baton.common.collective.StageKey;
import io.baton.common.collective.CollectiveSettings;
import io.baton.common.collective.PeerEndpoint;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The Aeron communicator of the training benches: ranks on 127.0.0.1, deadlines long enough for slow steps, and
 * {@code -Dbench.idle=YIELDING|BACKOFF|SLEEPING|BUSY_SPIN} for how a replica waits inside a collective.
 *
 * <p>Threading: static, no state.
 */
final class BenchCollectives
{
    private BenchCollectives()
    {
    }

    /**
     * Connects {@code rank} of {@code ports.length} ranks. With {@code driverDir} null: UDP, an embedded driver per
     * JVM; else IPC through the driver of {@code driverMode} (EXTERNAL or SHARED) in that directory.
     */
    static AeronCommunicator connect(final int rank, final int[] ports, final String jobId,
        final CollectiveSettings.DriverMode driverMode, final String driverDir)
    {
        final String idle = System.getProperty("bench.idle");
        return connect(rank, ports, jobId, driverMode, driverDir, b -> idle(b, idle));
    }

    /** As above, with {@code tune} applied to the settings last (the bench's own choice of idle strategy, say). */
    static AeronCommunicator connect(final int rank, final int[] ports, final String jobId,
        final CollectiveSettings.DriverMode driverMode, final String driverDir,
        final Consumer<CollectiveSettings.Builder> tune)
    {
        final CollectiveSettings.Builder builder = CollectiveSettings.builder()
            .transport(driverDir == null ? CollectiveSettings.Transport.UDP : CollectiveSettings.Transport.IPC)
            .operationDeadlineNs(TimeUnit.SECONDS.toNanos(300))
            .connectDeadlineNs(TimeUnit.SECONDS.toNanos(120))
            .compression(CollectiveSettings.Compression.valueOf(System.getProperty("bench.compression", "NONE")));
        if (driverDir != null)
        {
            builder.driverMode(driverMode).externalDriverDirectory(driverDir);
        }
        tune.accept(builder);
        final CollectiveSettings settings = builder.build();
        final List<PeerEndpoint> peers = new ArrayList<>();
        for (final int port : ports)
        {
            peers.add(PeerEndpoint.local(settings, "127.0.0.1", port));
        }
        return new AeronCommunicator(settings, rank, peers, jobId, 1L,
            StageKey.fromHex(System.getProperty("bench.key", "be".repeat(StageKey.LENGTH))));
    }

    /**
     * Applies {@code spec} = {@code KIND[:maxSpins:maxYields:minParkNs:maxParkNs]} (null: nothing) to the idle
     * settings of {@code builder}.
     */
    static void idle(final CollectiveSettings.Builder builder, final String spec)
    {
        if (spec == null)
        {
            return;
        }
        final String[] parts = spec.split(":");
        builder.idle(CollectiveSettings.IdleKind.valueOf(parts[0]));
        if (parts.length == 5)
        {
            builder.idleMaxSpins(Long.parseLong(parts[1])).idleMaxYields(Long.parseLong(parts[2]))
                .idleMinParkNs(Long.parseLong(parts[3])).idleMaxParkNs(Long.parseLong(parts[4]));
        }
        else if (parts.length != 1)
        {
            throw new IllegalArgumentException("idle spec " + spec + ": expected KIND or "
                + "KIND:maxSpins:maxYields:minParkNs:maxParkNs");
        }
    }
}
