package io.baton.coordinator.plan;

/**
 * One cell of {@code baton plan}: the projected synchronous step of {@code replicas} replicas on {@code linkGbps}
 * links. Times in milliseconds.
 *
 * @param replicas          number of replicas (GPUs).
 * @param linkGbps          network link per node, Gbit/s per direction.
 * @param computeMs         forward + backward + update of one replica's batch.
 * @param allReduceMs       the ring all-reduce of the gradient on its own.
 * @param exposedAllReduceMs the part of it not hidden behind the backward pass.
 * @param syncBnMs          SyncBN's small all-reduces (2 per BN layer per step, on the critical path).
 * @param stepMs            computeMs + exposedAllReduceMs + syncBnMs.
 * @param efficiency        computeMs / stepMs: images/s of N replicas over N x one replica alone.
 * @param imagesPerSec      N x batch / step.
 * @param linkToHideGbps    link rate at which the all-reduce would fit entirely into the backward pass.
 */
public record Projection(
    int replicas,
    double linkGbps,
    double computeMs,
    double allReduceMs,
    double exposedAllReduceMs,
    double syncBnMs,
    double stepMs,
    double efficiency,
    double imagesPerSec,
    double linkToHideGbps)
{
}
