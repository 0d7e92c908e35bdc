package io.baton.coordinator.spark;

import io.baton.common.collective.AeronCommunicator;
import io.baton.common.collective.CollectiveConfigs;
import io.baton.common.collective.CollectiveSettings;
import io.baton.common.collective.Communicator;
import io.baton.common.collective.PeerEndpoint;
import io.baton.common.config.BatonConfig;
import io.baton.trainer.replica.OverlappedAllReduce;
import io.baton.trainer.run.SingleRankCommunicator;
import io.baton.trainer.syncbn.BnGroups;

import java.util.ArrayList;
import java.util.List;

/**
 * Rendezvous of a barrier stage: every replica opens its collective endpoint, the endpoints are exchanged with
 * Spark's {@code allGather}, and each replica connects to all the others. One exchange serves up to three
 * communicators: the replica's own; when the gradient all-reduce overlaps backward, a second one for the gradient
 * buckets; and with SyncBatchNorm groups smaller than the world, one between the ranks of this replica's group. The
 * extra ones use the same ports and driver but their own Aeron streams.
 *
 * <p>Threading: the task's thread.
 */
public final class Rendezvous
{
    private static final String SEPARATOR = "|";

    private final CollectiveSettings settings;
    private final int rank;
    private final List<PeerEndpoint> peers;

    private Rendezvous(final CollectiveSettings settings, final int rank, final List<PeerEndpoint> peers)
    {
        this.settings = settings;
        this.rank = rank;
        this.peers = peers;
    }

    /** Exchanges every replica's endpoint (a barrier collective of the stage's tasks). */
    public static Rendezvous exchange(final BatonConfig config, final ReplicaContext context)
    {
        final CollectiveSettings settings = CollectiveConfigs.settings(config);
        final PeerEndpoint self = CollectiveConfigs.endpoint(config, settings, context.host(), context.rank());
        final List<String> gathered = context.allGather(self.host() + SEPARATOR + self.port() + SEPARATOR
            + self.driverId());
        final List<PeerEndpoint> peers = new ArrayList<>(gathered.size());
        for (final String entry : gathered)
        {
            final String[] parts = entry.split("\\" + SEPARATOR, 3);
            peers.add(new PeerEndpoint(parts[0], Integer.parseInt(parts[1]), parts[2]));
        }
        return new Rendezvous(settings, context.rank(), peers);
    }

    /**
     * Exchanges the endpoints and connects the replica's communicator.
     *
     * @param jobId      identity of the communicator's messages (another job's are dropped).
     * @param generation incarnation of the stage; older generations' messages are dropped.
     */
    public static AeronCommunicator connect(
        final BatonConfig config, final ReplicaContext context, final String jobId, final long generation)
    {
        return exchange(config, context).connect(jobId, generation);
    }

    /** The replica's communicator. */
    public AeronCommunicator connect(final String jobId, final long generation)
    {
        return new AeronCommunicator(settings, rank, peers, jobId, generation);
    }

    /**
     * A second communicator between the same replicas for the overlapped gradient all-reduce (same ports and driver,
     * its own streams: {@link OverlappedAllReduce#communicatorSettings}).
     */
    public AeronCommunicator connectGradients(final String jobId, final long generation)
    {
        return new AeronCommunicator(OverlappedAllReduce.communicatorSettings(settings), rank, peers,
            OverlappedAllReduce.communicatorJobId(jobId), generation);
    }

    /**
     * The communicator of this replica's SyncBatchNorm group of {@code groupSize} ranks ({@link BnGroups}: ranks
     * [g*k, (g+1)*k), renumbered from 0), for a group smaller than the world. A group of one is the replica alone.
     */
    public Communicator connectBnGroup(final String jobId, final long generation, final int groupSize)
    {
        final int worldSize = peers.size();
        final int k = BnGroups.effectiveGroupSize(worldSize, groupSize);
        if (k == worldSize)
        {
            throw new IllegalArgumentException("syncbn.group-size = " + groupSize + " spans the whole world of "
                + worldSize + ": use the replica's communicator");
        }
        if (k == 1)
        {
            return new SingleRankCommunicator();
        }
        final int first = BnGroups.firstRank(rank, worldSize, groupSize);
        return new AeronCommunicator(BnGroups.communicatorSettings(settings), rank - first,
            List.copyOf(peers.subList(first, first + k)), BnGroups.communicatorJobId(jobId, first / k), generation);
    }
}
