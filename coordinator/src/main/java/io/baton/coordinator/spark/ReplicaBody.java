package io.baton.coordinator.spark;

import java.io.Serializable;

/**
 * The work of one replica inside a barrier task. Serialised to the executors, so it must capture only serialisable
 * state (the rendered configuration, URIs, small values).
 *
 * @param <R> the replica's result, returned to the driver.
 */
@FunctionalInterface
public interface ReplicaBody<R extends Serializable> extends Serializable
{
    R run(ReplicaContext context) throws Exception;
}
