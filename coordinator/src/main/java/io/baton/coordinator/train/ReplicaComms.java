package io.baton.coordinator.train;

import io.baton.common.collective.AeronCommunicator;
import io.baton.common.collective.CollectiveConfigs;
import io.baton.common.collective.CollectiveSettings;
import io.baton.common.collective.PeerEndpoint;
import io.baton.common.config.BatonConfig;
import io.baton.common.config.CommonKeys;
import io.baton.coordinator.spark.ReplicaContext;

import java.util.ArrayList;
import java.util.List;

/** Rendezvous of a barrier stage: every replica opens its endpoint, all exchange them, and connect. */
final class ReplicaComms
{
    private static final String SEPARATOR = "|";

    private ReplicaComms()
    {
    }

    static AeronCommunicator connect(final BatonConfig config, final ReplicaContext context, final long generation)
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
        return new AeronCommunicator(settings, context.rank(), peers, config.get(CommonKeys.JOB_NAME), generation);
    }
}
