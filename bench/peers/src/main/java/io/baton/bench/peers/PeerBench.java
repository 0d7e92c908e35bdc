package io.baton.bench.peers;

import io.baton.trainer.data.BatchSource;
import io.baton.trainer.data.GlobalBatchSampler;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.spark.parameterserver.training.SharedTrainingMaster;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.parameterserver.distributed.conf.VoidConfiguration;

import java.io.IOException;

/**
 * Issue 8 peer benchmark: trains the zoo's ResNet-20 on Baton's generated pattern images with the same initial
 * weights, samples, global batches (Baton's {@link GlobalBatchSampler} order), flips and plain SGD as Baton, as
 * {@code reference} (one process, DL4J {@code fit()} on each combined global batch), {@code paramavg}
 * (ParameterAveragingTrainingMaster, averaging every minibatch) or {@code shared} (SharedTrainingMaster). Prints one
 * {@code EPOCH} line per epoch (images/s of the training call, training loss, eval-mode top-1 and loss on the
 * held-out ids, relative L2 distance of the parameters from the reference's after the same epoch) and writes the
 * parameters after each epoch to {@code <out>/<system>.e<epoch>.bin} ({@link PeerCommon}, shared with the
 * {@code batontm} program, which runs on Baton's classpath).
 *
 * <p>Usage: {@code PeerBench <system> <out dir> <master> <train samples> <val samples> <global batch> <epochs>
 * <lr> <seed> [baton init params file]}.
 */
public final class PeerBench
{
    private PeerBench()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final PeerCommon bench = new PeerCommon(args);
        switch (bench.system)
        {
            case "reference" -> reference(bench);
            case "paramavg", "shared" -> spark(bench);
            default -> throw new IllegalArgumentException("system must be reference, paramavg or shared: "
                + bench.system);
        }
    }

    private static void reference(final PeerCommon bench) throws IOException
    {
        final ComputationGraph net = bench.net;
        for (int epoch = 0; epoch < bench.epochs; epoch++)
        {
            final GlobalBatchSampler.EpochOrder order = bench.sampler.epoch(epoch);
            double lossSum = 0;
            long nanos = 0;
            for (int s = 0; s < order.steps(); s++)
            {
                final BatchSource.Batch b = bench.train.load(order.globalBatch(s), epoch, true);
                final long t0 = System.nanoTime();
                net.fit(new DataSet(b.features(), b.labels()));
                nanos += System.nanoTime() - t0;
                lossSum += net.score();
            }
            bench.report(net, epoch, bench.imagesPerEpoch(epoch), nanos, lossSum / order.steps(), "");
        }
    }

    private static void spark(final PeerCommon bench) throws IOException
    {
        final String system = bench.system;
        final int perWorker = bench.perWorker();
        final SparkConf conf = new SparkConf().setAppName("peer-" + system).setMaster(bench.master)
            .set("spark.driver.host", "127.0.0.1").set("spark.ui.enabled", "false");
        final StorageLevel storage = StorageLevel.MEMORY_ONLY();
        try (JavaSparkContext sc = new JavaSparkContext(conf))
        {
            final TrainingMaster<?, ?> tm;
            if ("paramavg".equals(system))
            {
                tm = new ParameterAveragingTrainingMaster.Builder(perWorker)
                    .batchSizePerWorker(perWorker)
                    .averagingFrequency(1)
                    .workerPrefetchNumBatches(0)
                    .repartionData(Repartition.Never)
                    .rddTrainingApproach(RDDTrainingApproach.Direct)
                    .storageLevel(storage)
                    .collectTrainingStats(false)
                    .build();
            }
            else
            {
                final VoidConfiguration voidConf = VoidConfiguration.builder()
                    .unicastPort(Integer.getInteger("peers.shared.port", 40123))
                    .networkMask("127.0.0.0/8")
                    .controllerAddress("127.0.0.1")
                    .build();
                tm = new SharedTrainingMaster.Builder(voidConf, perWorker)
                    .batchSizePerWorker(perWorker)
                    .workersPerNode(1)
                    .workerPrefetchNumBatches(0)
                    .repartitionData(Repartition.Never)
                    .rddTrainingApproach(RDDTrainingApproach.Direct)
                    .storageLevel(storage)
                    .collectTrainingStats(false)
                    .build();
            }
            final SparkComputationGraph sparkNet = new SparkComputationGraph(sc, bench.net, tm);
            for (int epoch = 0; epoch < bench.epochs; epoch++)
            {
                final long nanos = bench.timedFit(sc, sparkNet, epoch, storage);
                bench.report(sparkNet.getNetwork(), epoch, bench.imagesPerEpoch(epoch), nanos, sparkNet.getScore(), "");
            }
            tm.deleteTempFiles(sc);
        }
    }
}
