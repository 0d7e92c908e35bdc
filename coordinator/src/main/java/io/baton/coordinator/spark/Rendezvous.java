package io.baton.coordinator.spark;

import io.baton.common.collective.AeronCommunicator;
import io.baton.common.collective.CollectiveConfigs;
import io.baton.common.collective.CollectiveSettings;
import io.baton.common.collective.Communicator;
import io.baton.common.collective.PeerEndpoint;
import io.baton.common.collective.StageKey;
import io.baton.common.config.BatonConfig;
import io.baton.trainer.replica.OverlappedAllReduce;
import io.baton.trainer.run.SingleRankCommunicator;
import io.baton.trainer.syncbn.BnGroups;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * Rendezvous of a barrier stage: every replica opens its collective endpoint, the endpoints are exchanged with
 * Spark's {@code allGather} (through {@link ReplicaContext#allGather}, which returns as soon as the driver replies
 * instead of on Spark's once-a-second poll), and each replica connects to all the others. One exchange serves up to three
 * communicators: the replica's own; when the gradient all-reduce overlaps backward, a second one for the gradient
 * buckets; and with SyncBatchNorm groups smaller than the world, one between the ranks of this replica's group. The
 * extra ones use the same ports and driver but their own Aeron streams.
 *
 * <p>The stage's collective secret travels in the same exchange: rank 0 creates a {@link StageKey} and adds it to its
 * entry, every replica takes it from there, and all of the stage's communicators are keyed with it, so only this
 * stage's tasks can join them. Spark carries allGather messages over its RPC, which authenticates and encrypts them
 * when {@code spark.authenticate} and {@code spark.network.crypto.enabled} are on; with them off the key crosses the
 * network in the clear between executors and the driver (see the README, "Security of the collectives").
 *
 * <p>The UDP endpoint binds the address peers are told ({@code collective.host}, else the address Spark knows the
 * executor by), not every interface.
 *
 * <p>Threading: the task's thread.
 */
public final class Rendezvous
{
    private static final Logger LOG = LoggerFactory.getLogger(Rendezvous.class);
    private static final String SEPARATOR = "|";

    private final CollectiveSettings settings;
    private final int rank;
    private final List<PeerEndpoint> peers;
    private final StageKey key;

    private Rendezvous(final CollectiveSettings settings, final int rank, final List<PeerEndpoint> peers,
        final StageKey key)
    {
        this.settings = settings;
        this.rank = rank;
        this.peers = peers;
        this.key = key;
    }

    /** Exchanges every replica's endpoint (a barrier collective of the stage's tasks). */
    public static Rendezvous exchange(final BatonConfig config, final ReplicaContext context)
    {
        final CollectiveSettings configured = CollectiveConfigs.settings(config);
        final PeerEndpoint self = CollectiveConfigs.endpoint(config, configured, context.host(), context.rank());
        final CollectiveSettings settings = configured.toBuilder().bindHost(self.host()).build().validate();
        final String offeredKey = context.rank() == 0 ? StageKey.random().toHex() : "-";
        final long startNs = System.nanoTime();
        final List<String> gathered = context.allGather(self.host() + SEPARATOR + self.port() + SEPARATOR
            + offeredKey + SEPARATOR + self.driverId());
        LOG.info("replica {}: endpoints of {} replicas exchanged in {} ms", context.rank(), gathered.size(),
            (System.nanoTime() - startNs) / 1_000_000);
        final List<PeerEndpoint> peers = new ArrayList<>(gathered.size());
        StageKey key = null;
        for (final String entry : gathered)
        {
            final String[] parts = entry.split("\\" + SEPARATOR, 4);
            peers.add(new PeerEndpoint(parts[0], Integer.parseInt(parts[1]), parts[3]));
            if (peers.size() == 1)
            {
                key = StageKey.fromHex(parts[2]);
            }
        }
        return new Rendezvous(settings, context.rank(), peers, key);
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
        return new AeronCommunicator(settings, rank, peers, jobId, generation, key);
    }

    /**
     * A second communicator between the same replicas for the overlapped gradient all-reduce (same ports and driver,
     * its own streams: {@link OverlappedAllReduce#communicatorSettings}).
     */
    public AeronCommunicator connectGradients(final String jobId, final long generation)
    {
        return new AeronCommunicator(OverlappedAllReduce.communicatorSettings(settings), rank, peers,
            OverlappedAllReduce.communicatorJobId(jobId), generation, key);
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
            List.copyOf(peers.subList(first, first + k)), BnGroups.communicatorJobId(jobId, first / k), generation,
            key);
    }
}
