package io.baton.trainer.model;

/**
 * One row of a {@link ModelSummary}: a group of vertices (stem, a stage, or the head).
 *
 * @param name              {@code stem}, {@code stage1} ... or {@code head}.
 * @param outputShape       channels x height x width of the group's output (or classes for the head).
 * @param torchvisionParams parameters as torchvision counts them (no BN running statistics).
 * @param dl4jParams        parameters as DL4J stores them (including BN running mean/variance).
 * @param macs              multiply-accumulates of convolutions and fully connected layers for one image.
 */
public record StageSummary(String name, String outputShape, long torchvisionParams, long dl4jParams, long macs)
{
}
