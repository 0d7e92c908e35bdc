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
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What every system of the peer benchmark shares: the command line, the generated pattern images and held-out ids,
 * Baton's global batch order, the zoo's ResNet-20 with its initial weights, the per-epoch RDD contents of the Spark
 * systems and the per-epoch report. Compiled into both classpaths (the peers' jar by {@code bench/peers/pom.xml},
 * the {@code batontm} program by {@code run.sh} against Baton's classes), so it imports no training master.
 */
final class PeerCommon
{
    static final int CLASSES = 10;
    static final int SIZE = 32;
    static final int WORKERS = 2;

    final String system;
    final String out;
    final String master;
    final int epochs;
    final double lr;
    final long seed;
    final BatchSource train;
    final BatchSource all;
    final int[] val;
    final GlobalBatchSampler sampler;
    final ComputationGraph net;

    /**
     * Arguments: {@code <system> <out dir> <master> <train samples> <val samples> <global batch> <epochs> <lr> <seed>
     * [baton init params file]}. Prints the {@code INIT} line (and {@code INIT-CHECK} against Baton's rank-0 graph).
     */
    PeerCommon(final String[] args) throws IOException
    {
        NativeRuntime.configure();
        this.system = args[0];
        this.out = args[1];
        this.master = args[2];
        final int trainSamples = Integer.parseInt(args[3]);
        final int valSamples = Integer.parseInt(args[4]);
        final int globalBatch = Integer.parseInt(args[5]);
        this.epochs = Integer.parseInt(args[6]);
        this.lr = Double.parseDouble(args[7]);
        this.seed = Long.parseLong(args[8]);

        final PatternImages images = new PatternImages(seed, CLASSES, SIZE, SIZE);
        this.train = new PatternBatchSource(images, trainSamples, seed);
        // Held-out ids follow the training ones, as Baton's DataSources does for generated data.
        this.all = new PatternBatchSource(images, trainSamples + valSamples, seed);
        this.val = new int[valSamples];
        for (int i = 0; i < valSamples; i++)
        {
            val[i] = trainSamples + i;
        }
        this.sampler = new GlobalBatchSampler(trainSamples, globalBatch, WORKERS, seed, PartialBatchPolicy.DROP);

        final ModelOptions options = ModelOptions.builder("resnet20").input(SIZE, SIZE, 3).numClasses(CLASSES)
            .seed(seed).build();
        this.net = new ComputationGraph(ResNetZoo.configuration(options, NormLayerFactory.standard(), new Sgd(lr)));
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
    }

    /** Examples per worker and step. */
    int perWorker()
    {
        return sampler.globalBatch() / WORKERS;
    }

    /** Images one epoch trains on. */
    long imagesPerEpoch(final int epoch)
    {
        return (long)sampler.epoch(epoch).steps() * sampler.globalBatch();
    }

    /**
     * Fits {@code net} on epoch {@code epoch}'s batches as an RDD of {@link #WORKERS} partitions, persisted and counted
     * first so that only the fit is timed; returns the fit's wall time in nanoseconds.
     */
    long timedFit(final JavaSparkContext sc, final SparkComputationGraph net, final int epoch,
        final StorageLevel storage)
    {
        final JavaRDD<DataSet> rdd = sc.parallelize(epochBatches(epoch), WORKERS).persist(storage);
        rdd.count();
        final long t0 = System.nanoTime();
        net.fit(rdd);
        final long nanos = System.nanoTime() - t0;
        rdd.unpersist();
        return nanos;
    }

    /**
     * One epoch's RDD contents for the Spark systems, pre-batched: global batch s is split into the slices of "rank"
     * 0 and 1 (Baton's split); partition r (of {@link #WORKERS}, in order) holds rank r's slices in step order.
     */
    List<DataSet> epochBatches(final int epoch)
    {
        final GlobalBatchSampler.EpochOrder order = sampler.epoch(epoch);
        final List<DataSet> batches = new ArrayList<>();
        for (int r = 0; r < WORKERS; r++)
        {
            for (int s = 0; s < order.steps(); s++)
            {
                final BatchSource.Batch b = train.load(order.slice(s, r), epoch, true);
                batches.add(new DataSet(b.features(), b.labels()));
            }
        }
        return batches;
    }

    /**
     * Prints the {@code EPOCH} line (images/s of the training call, training loss, eval-mode top-1 and log loss on
     * the held-out ids, relative L2 distance from the reference's parameters after the same epoch, then
     * {@code extra}) and writes the parameters to {@code <out>/<system>.e<epoch>.bin}.
     */
    void report(final ComputationGraph trained, final int epoch, final long images, final long nanos,
        final double trainLoss, final String extra) throws IOException
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
            final INDArray probs = trained.outputSingle(false, b.features());
            final INDArray predicted = probs.argMax(1);
            final INDArray truth = b.labels().argMax(1);
            for (int i = 0; i < ids.length; i++)
            {
                correct += predicted.getInt(i) == truth.getInt(i) ? 1 : 0;
            }
            final INDArray logp = Nd4j.math().log(probs.add(1e-12));
            lossSum -= logp.mul(b.labels()).sumNumber().doubleValue();
        }
        final float[] params = trained.params().dup().data().asFloat();
        write(out + "/" + system + ".e" + (epoch + 1) + ".bin", params);
        final String refPath = out + "/reference.e" + (epoch + 1) + ".bin";
        final String distance = new java.io.File(refPath).exists()
            ? String.format(Locale.ROOT, "%.3e", relativeL2(params, read(refPath))) : "n/a";
        System.out.printf(Locale.ROOT, "EPOCH system=%s epoch=%d images_per_sec=%.1f train_loss=%.4f eval_top1=%.4f "
                + "eval_loss=%.4f param_rel_l2_vs_reference=%s%s%n", system, epoch + 1, images / (nanos / 1e9),
            trainLoss, correct / (double)n, lossSum / n, distance, extra.isEmpty() ? "" : " " + extra);
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

    static double maxAbsDiff(final float[] a, final float[] b)
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
