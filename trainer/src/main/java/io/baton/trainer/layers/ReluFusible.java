package io.baton.trainer.layers;

/**
 * A layer configuration whose training-mode output can include the ReLU of the plain ReLU layer that is its only
 * consumer ({@link ReplicaLayers#toReplica} sets it, together with {@link ReplicaActivation#isInputRectified()} on
 * the ReLU layer, which then passes its input on in forward; its backward pass, the ReLU's derivative, is unchanged).
 * The result is the same bits as the two layers apart; eval-mode outputs are never rectified (the ReLU layer applies
 * DL4J's ReLU there), and rectifying twice changes nothing, so a fused producer is correct ahead of any plain ReLU.
 */
public interface ReluFusible
{
    /** Whether the training-mode output is rectified. */
    boolean isFusedRelu();

    /** Sets whether the training-mode output is rectified; only before the network is built. */
    void setFusedRelu(boolean fusedRelu);
}
