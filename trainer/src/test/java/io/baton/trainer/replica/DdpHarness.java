package io.baton.trainer.replica;

import io.baton.common.collective.Communicator;
import io.baton.trainer.optim.LargeBatchSgd;
import io.baton.trainer.optim.ParamLayout;
import io.baton.trainer.optim.SgdSettings;
import io.baton.trainer.syncbn.SyncBatchNorm;
import io.baton.trainer.syncbn.SyncBatchNormSwap;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/** A small residual conv net with BN and helpers to train it on 1..N replicas (threads). */
final class DdpHarness
{
    static final int CLASSES = 3;

    private DdpHarness()
    {
    }

    /** conv-BN-relu-conv-BN-add-relu-pool-dense on 3x16x16 input, Nesterov momentum. */
    static ComputationGraphConfiguration residualNet()
    {
        return new NeuralNetConfiguration.Builder()
            .seed(42)
            .dataType(DataType.FLOAT)
            .updater(new Nesterovs(0.05, 0.9))
            .convolutionMode(ConvolutionMode.Same)
            .graphBuilder()
            .addInputs("in")
            .setInputTypes(InputType.convolutional(16, 16, 3))
            .addLayer("conv1", new ConvolutionLayer.Builder(3, 3).nOut(4).activation(Activation.IDENTITY).build(),
                "in")
            .addLayer("bn1", new BatchNormalization.Builder().build(), "conv1")
            .addLayer("relu1", new ActivationLayer.Builder().activation(Activation.RELU).build(), "bn1")
            .addLayer("conv2", new ConvolutionLayer.Builder(3, 3).nOut(4).activation(Activation.IDENTITY).build(),
                "relu1")
            .addLayer("bn2", new BatchNormalization.Builder().build(), "conv2")
            .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "bn2", "relu1")
            .addLayer("relu2", new ActivationLayer.Builder().activation(Activation.RELU).build(), "add")
            .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "relu2")
            .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(CLASSES)
                .activation(Activation.SOFTMAX).build(), "pool")
            .setOutputs("out")
            .build();
    }

    static ComputationGraph init(final ComputationGraphConfiguration conf)
    {
        // A copy per graph: ranks initialise on their own threads, and DL4J's init adds to the configuration's
        // layer variable lists (two ranks on one configuration once failed with an ArrayIndexOutOfBoundsException).
        final ComputationGraph graph = new ComputationGraph(conf.clone());
        graph.init();
        return graph;
    }

    /** Global batches for {@code steps} steps of size {@code globalBatch}: features then labels, per step. */
    static List<INDArray[]> data(final int steps, final int globalBatch, final long seed)
    {
        Nd4j.getRandom().setSeed(seed);
        final List<INDArray[]> out = new ArrayList<>();
        for (int s = 0; s < steps; s++)
        {
            final INDArray x = Nd4j.randn(DataType.FLOAT, globalBatch, 3, 16, 16).muli(0.8).addi(0.5);
            final INDArray y = Nd4j.zeros(DataType.FLOAT, globalBatch, CLASSES);
            for (int i = 0; i < globalBatch; i++)
            {
                y.putScalar(i, Nd4j.getRandom().nextInt(CLASSES), 1.0);
            }
            out.add(new INDArray[] {x, y});
        }
        return out;
    }

    static INDArray rows(final INDArray a, final int from, final int to)
    {
        return a.get(NDArrayIndex.interval(from, to)).dup();
    }

    /** What a replica thread does after its step loop (e.g. perturb, verify); may be a no-op. */
    interface AfterStep
    {
        void after(int rank, int step, ComputationGraph graph, SynchronousStep replica);
    }

    /**
     * Trains one graph per communicator on its slices [r*g/N, (r+1)*g/N) of each global batch and returns every
     * rank's final parameters. With {@code syncBn} the BN layers are swapped to SyncBatchNorm and bound.
     */
    static List<INDArray> train(
        final List<? extends Communicator> comms,
        final boolean syncBn,
        final List<INDArray[]> batches,
        final int checksumEvery,
        final AfterStep afterStep) throws Exception
    {
        return train(comms.size(), comms::get, syncBn, null, batches, checksumEvery, afterStep);
    }

    /** As above with Baton's optimiser ({@code sgd} non-null) at learning rate {@link #lr(int)} per step. */
    static List<INDArray> train(
        final List<? extends Communicator> comms,
        final boolean syncBn,
        final SgdSettings sgd,
        final List<INDArray[]> batches,
        final int checksumEvery,
        final AfterStep afterStep) throws Exception
    {
        return train(comms.size(), comms::get, syncBn, sgd, batches, checksumEvery, afterStep);
    }

    /** The learning rate the optimiser path uses at step {@code s}: changes every step, like a warmup. */
    static double lr(final int s)
    {
        return 0.05 + 0.02 * s;
    }

    /** As above, each rank's communicator created by {@code commOfRank} on the rank's thread and closed after. */
    static List<INDArray> train(
        final int n,
        final IntFunction<? extends Communicator> commOfRank,
        final boolean syncBn,
        final List<INDArray[]> batches,
        final int checksumEvery,
        final AfterStep afterStep) throws Exception
    {
        return train(n, commOfRank, syncBn, null, batches, checksumEvery, afterStep);
    }

    /** As above, with Baton's optimiser when {@code sgd} is non-null. */
    static List<INDArray> train(
        final int n,
        final IntFunction<? extends Communicator> commOfRank,
        final boolean syncBn,
        final SgdSettings sgd,
        final List<INDArray[]> batches,
        final int checksumEvery,
        final AfterStep afterStep) throws Exception
    {
        return train(n, commOfRank, null, syncBn, sgd, batches, checksumEvery, afterStep);
    }

    /** The gradient all-reduce overlapped with backward, on a second communicator per rank. */
    record Overlap(IntFunction<? extends Communicator> commOfRank, long bucketBytes)
    {
    }

    /** As above; with {@code overlap} non-null each rank reduces its gradient with an {@link OverlappedAllReduce}. */
    static List<INDArray> train(
        final int n,
        final IntFunction<? extends Communicator> commOfRank,
        final Overlap overlap,
        final boolean syncBn,
        final SgdSettings sgd,
        final List<INDArray[]> batches,
        final int checksumEvery,
        final AfterStep afterStep) throws Exception
    {
        final ComputationGraphConfiguration conf = syncBn
            ? SyncBatchNormSwap.toSyncBatchNorm(residualNet(), 0)
            : residualNet();
        final ExecutorService pool = Executors.newFixedThreadPool(n);
        try
        {
            final List<Future<INDArray>> futures = new ArrayList<>();
            for (int r = 0; r < n; r++)
            {
                final int rank = r;
                futures.add(pool.submit(() ->
                {
                    try (Communicator comm = commOfRank.apply(rank))
                    {
                        return trainRank(comm, overlap, conf, sgd, batches, checksumEvery, afterStep);
                    }
                }));
            }
            final List<INDArray> out = new ArrayList<>();
            for (final Future<INDArray> f : futures)
            {
                out.add(f.get(120, TimeUnit.SECONDS));
            }
            return out;
        }
        finally
        {
            pool.shutdownNow();
        }
    }

    private static INDArray trainRank(
        final Communicator comm,
        final Overlap overlap,
        final ComputationGraphConfiguration conf,
        final SgdSettings sgd,
        final List<INDArray[]> batches,
        final int checksumEvery,
        final AfterStep afterStep)
    {
        final int rank = comm.rank();
        final int n = comm.worldSize();
        final ComputationGraph graph = init(conf);
        if (rank != 0)
        {
            graph.params().muli(0.5);
        }
        SyncBatchNorm.bind(graph, comm);
        final SynchronousStep replica = new SynchronousStep(graph, comm, checksumEvery,
            sgd == null ? null : new LargeBatchSgd(ParamLayout.of(graph), sgd));
        replica.broadcastInitialState();
        try (OverlappedAllReduce reducer = overlap == null ? null
            : new OverlappedAllReduce(graph, overlap.commOfRank().apply(rank), overlap.bucketBytes()))
        {
            replica.overlap(reducer);
            runSteps(replica, rank, n, graph, sgd, batches, afterStep);
        }
        return graph.params().dup();
    }

    private static void runSteps(final SynchronousStep replica, final int rank, final int n,
        final ComputationGraph graph, final SgdSettings sgd, final List<INDArray[]> batches, final AfterStep afterStep)
    {
        for (int s = 0; s < batches.size(); s++)
        {
            final INDArray[] b = batches.get(s);
            final int g = (int)b[0].size(0);
            final int from = (int)((long)rank * g / n);
            final int to = (int)((long)(rank + 1) * g / n);
            if (sgd == null)
            {
                replica.step(rows(b[0], from, to), rows(b[1], from, to), g);
            }
            else
            {
                replica.step(rows(b[0], from, to), rows(b[1], from, to), g, lr(s));
            }
            if (afterStep != null)
            {
                afterStep.after(rank, s, graph, replica);
            }
        }
    }

    /** max |a - b| / max |b|. */
    static double relError(final INDArray a, final INDArray b)
    {
        final INDArray ad = a.castTo(DataType.DOUBLE);
        final INDArray bd = b.castTo(DataType.DOUBLE);
        return ad.sub(bd).amaxNumber().doubleValue() / Math.max(bd.amaxNumber().doubleValue(), 1e-30);
    }
}
