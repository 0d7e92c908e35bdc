package io.baton.trainer.bench;

import io.baton.common.collective.AeronCommunicator;
import io.baton.common.collective.CollectiveSettings;
import io.baton.common.collective.PeerEndpoint;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

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
        final CollectiveSettings.Builder builder = CollectiveSettings.builder()
            .transport(driverDir == null ? CollectiveSettings.Transport.UDP : CollectiveSettings.Transport.IPC)
            .operationDeadlineNs(TimeUnit.SECONDS.toNanos(300))
            .connectDeadlineNs(TimeUnit.SECONDS.toNanos(120));
        if (driverDir != null)
        {
            builder.driverMode(driverMode).externalDriverDirectory(driverDir);
        }
        final String idle = System.getProperty("bench.idle");
        if (idle != null)
        {
            builder.idle(CollectiveSettings.IdleKind.valueOf(idle));
        }
        final CollectiveSettings settings = builder.build();
        final List<PeerEndpoint> peers = new ArrayList<>();
        for (final int port : ports)
        {
            peers.add(PeerEndpoint.local(settings, "127.0.0.1", port));
        }
        return new AeronCommunicator(settings, rank, peers, jobId, 1L);
    }
}
