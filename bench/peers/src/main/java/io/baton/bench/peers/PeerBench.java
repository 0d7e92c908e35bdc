package io.baton.bench.peers;

import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.data.BatchSource;
import io.baton.trainer.data.GlobalBatchSampler;
import io.baton.trainer.data.PartialBatchPolicy;
import io.baton.trainer.data.synthetic.PatternBatchSource;
import io.baton.trainer.data.synthetic.PatternImages;
import io.baton.trainer.model.ModelOptions;
import io.baton.trainer.model.NormLayerFactory;
import io.baton.trainer.model.ResNetZoo;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.spark.parameterserver.training.SharedTrainingMaster;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.parameterserver.distributed.conf.VoidConfiguration;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Issue 8 peer benchmark: trains the zoo's ResNet-20 on Baton's generated pattern images with the same initial
 * weights, samples, global batches (Baton's {@link GlobalBatchSampler} order), flips and plain SGD as Baton, as
 * {@code reference} (one process, DL4J {@code fit()} on each combined global batch), {@code paramavg}
 * (ParameterAveragingTrainingMaster, averaging every minibatch) or {@code shared} (SharedTrainingMaster). Prints one
 * {@code EPOCH} line per epoch (images/s of the training call, training loss, eval-mode top-1 and loss on the
 * held-out ids, relative L2 distance of the parameters from the reference's after the same epoch) and writes the
 * parameters after each epoch to {@code <out>/<system>.e<epoch>.bin}.
 *
 * <p>Usage: {@code PeerBench <system> <out dir> <master> <train samples> <val samples> <global batch> <epochs>
 * <lr> <seed> [baton init params file]}.
 */
public final class PeerBench
{
    private static final int CLASSES = 10;
    private static final int SIZE = 32;

    private PeerBench()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        NativeRuntime.configure();
        final String system = args[0];
        final String out = args[1];
        final String master = args[2];
        final int trainSamples = Integer.parseInt(args[3]);
        final int valSamples = Integer.parseInt(args[4]);
        final int globalBatch = Integer.parseInt(args[5]);
        final int epochs = Integer.parseInt(args[6]);
        final double lr = Double.parseDouble(args[7]);
        final long seed = Long.parseLong(args[8]);
        final int workers = 2;

        final PatternImages images = new PatternImages(seed, CLASSES, SIZE, SIZE);
        final BatchSource train = new PatternBatchSource(images, trainSamples, seed);
        // Held-out ids follow the training ones, as Baton's DataSources does for generated data.
        final BatchSource all = new PatternBatchSource(images, trainSamples + valSamples, seed);
        final int[] val = new int[valSamples];
        for (int i = 0; i < valSamples; i++)
        {
            val[i] = trainSamples + i;
        }
        final GlobalBatchSampler sampler = new GlobalBatchSampler(trainSamples, globalBatch, workers, seed,
            PartialBatchPolicy.DROP);

        final ModelOptions options = ModelOptions.builder("resnet20").input(SIZE, SIZE, 3).numClasses(CLASSES)
            .seed(seed).build();
        final ComputationGraph net = new ComputationGraph(
            ResNetZoo.configuration(options, NormLayerFactory.standard(), new Sgd(lr)));
        net.init();
        // ND4J's thread counts (OMP_NUM_THREADS sets both): the reduction order of its kernels depends on them.
        System.out.printf(Locale.ROOT, "INIT system=%s params=%d sum=%.6f nd4j_threads=%d blas_threads=%d%n", system,
            net.numParams(), net.params().sumNumber().doubleValue(), Nd4j.getEnvironment().maxThreads(),
            Nd4j.factory().blas().getMaxThreads());
        if (args.length > 9)
        {
            final float[] baton = read(args[9]);
            final float[] mine = net.params().dup().data().asFloat();
            System.out.printf(Locale.ROOT, "INIT-CHECK vs Baton rank-0 initial graph: %d vs %d params, max |diff| = "
                + "%.3g%n", mine.length, baton.length, maxAbsDiff(mine, baton));
        }

        switch (system)
        {
            case "reference" -> reference(net, train, all, val, sampler, epochs, out);
            case "paramavg", "shared" -> spark(system, net, train, all, val, sampler, epochs, out, master, workers);
            default -> throw new IllegalArgumentException("system must be reference, paramavg or shared: " + system);
        }
    }

    private static void reference(
        final ComputationGraph net, final BatchSource train, final BatchSource all, final int[] val, final GlobalBatchSampler sampler,
        final int epochs, final String out) throws IOException
    {
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            final GlobalBatchSampler.EpochOrder order = sampler.epoch(epoch);
            double lossSum = 0;
            long nanos = 0;
            for (int s = 0; s < order.steps(); s++)
            {
                final BatchSource.Batch b = train.load(order.globalBatch(s), epoch, true);
                final long t0 = System.nanoTime();
                net.fit(new DataSet(b.features(), b.labels()));
                nanos += System.nanoTime() - t0;
                lossSum += net.score();
            }
            report("reference", net, all, val, epoch, order.steps() * sampler.globalBatch(), nanos, lossSum / order.steps(),
                out);
        }
    }

    private static void spark(
        final String system, final ComputationGraph net, final BatchSource train, final BatchSource all, final int[] val,
        final GlobalBatchSampler sampler, final int epochs, final String out, final String master, final int workers)
        throws IOException
    {
        final int perWorker = sampler.globalBatch() / workers;
        final SparkConf conf = new SparkConf().setAppName("peer-" + system).setMaster(master)
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
            final SparkComputationGraph sparkNet = new SparkComputationGraph(sc, net, tm);
            for (int epoch = 0; epoch < epochs; epoch++)
            {
                // Pre-batched DataSets: global batch s is split into the slices of "rank" 0 and 1 (Baton's split),
                // partition r holds rank r's slices in step order.
                final GlobalBatchSampler.EpochOrder order = sampler.epoch(epoch);
                final List<DataSet> batches = new ArrayList<>();
                for (int r = 0; r < workers; r++)
                {
                    for (int s = 0; s < order.steps(); s++)
                    {
                        final BatchSource.Batch b = train.load(order.slice(s, r), epoch, true);
                        batches.add(new DataSet(b.features(), b.labels()));
                    }
                }
                final JavaRDD<DataSet> rdd = sc.parallelize(batches, workers).persist(storage);
                rdd.count();
                final long t0 = System.nanoTime();
                sparkNet.fit(rdd);
                final long nanos = System.nanoTime() - t0;
                rdd.unpersist();
                report(system, sparkNet.getNetwork(), all, val, epoch, order.steps() * sampler.globalBatch(), nanos,
                    sparkNet.getScore(), out);
            }
            tm.deleteTempFiles(sc);
        }
    }

    private static void report(
        final String system, final ComputationGraph net, final BatchSource all, final int[] val, final int epoch, final long images,
        final long nanos, final double trainLoss, final String out) throws IOException
    {
        int correct = 0;
        double lossSum = 0;
        final int n = val.length;
        for (int start = 0; start < n; start += 64)
        {
            final int[] ids = new int[Math.min(64, n - start)];
            for (int i = 0; i < ids.length; i++)
            {
                ids[i] = val[start + i];
            }
            final BatchSource.Batch b = all.load(ids, 0, false);
            final INDArray probs = net.outputSingle(false, b.features());
            final INDArray predicted = probs.argMax(1);
            final INDArray truth = b.labels().argMax(1);
            for (int i = 0; i < ids.length; i++)
            {
                correct += predicted.getInt(i) == truth.getInt(i) ? 1 : 0;
            }
            final INDArray logp = Nd4j.math().log(probs.add(1e-12));
            lossSum -= logp.mul(b.labels()).sumNumber().doubleValue();
        }
        final float[] params = net.params().dup().data().asFloat();
        write(out + "/" + system + ".e" + (epoch + 1) + ".bin", params);
        final String refPath = out + "/reference.e" + (epoch + 1) + ".bin";
        final String distance = new java.io.File(refPath).exists()
            ? String.format(Locale.ROOT, "%.3e", relativeL2(params, read(refPath))) : "n/a";
        final PrintStream o = System.out;
        o.printf(Locale.ROOT, "EPOCH system=%s epoch=%d images_per_sec=%.1f train_loss=%.4f eval_top1=%.4f "
                + "eval_loss=%.4f param_rel_l2_vs_reference=%s%n", system, epoch + 1, images / (nanos / 1e9),
            trainLoss, correct / (double)n, lossSum / n, distance);
    }

    static double relativeL2(final float[] a, final float[] ref)
    {
        if (a.length != ref.length)
        {
            throw new IllegalArgumentException("parameter count differs: " + a.length + " vs " + ref.length);
        }
        double d = 0;
        double r = 0;
        for (int i = 0; i < a.length; i++)
        {
            final double x = (double)a[i] - ref[i];
            d += x * x;
            r += (double)ref[i] * ref[i];
        }
        return Math.sqrt(d / r);
    }

    private static double maxAbsDiff(final float[] a, final float[] b)
    {
        if (a.length != b.length)
        {
            return Double.NaN;
        }
        double m = 0;
        for (int i = 0; i < a.length; i++)
        {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    static void write(final String path, final float[] p) throws IOException
    {
        try (DataOutputStream o = new DataOutputStream(new java.io.BufferedOutputStream(new FileOutputStream(path))))
        {
            o.writeInt(p.length);
            for (final float v : p)
            {
                o.writeFloat(v);
            }
        }
    }

    static float[] read(final String path) throws IOException
    {
        try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(new FileInputStream(path))))
        {
            final float[] p = new float[in.readInt()];
            for (int i = 0; i < p.length; i++)
            {
                p[i] = in.readFloat();
            }
            return p;
        }
    }
}
