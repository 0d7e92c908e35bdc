package io.baton.common.collective;

/**
 * Reduction applied by {@link Communicator#allReduce}. {@code AVG} is computed as the SUM multiplied by
 * {@code 1/worldSize} (one rounding step, identical on every rank), never as a running mean.
 */
public enum ReduceOp
{
    SUM,
    AVG
}
