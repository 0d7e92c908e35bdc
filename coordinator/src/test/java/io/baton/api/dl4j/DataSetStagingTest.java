package io.baton.api.dl4j;

import io.baton.api.Baton;
import io.baton.api.Model;
import io.baton.api.Settings;
import io.baton.api.TrainResult;
import io.baton.common.config.BatonConfig;
import io.baton.trainer.data.BatchSource;
import io.baton.trainer.data.DataSources;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Staging a DataSet RDD into Baton's indexed form on a real Spark context (local[2]): every example once, exactly
 * as given, numbered by class, then partition and position; bad RDDs refused in one line naming the value; the
 * builder's refusals; SparkDl4jMultiLayer trained through BatonTrainingMaster equal to Baton's own path; a second fit
 * on the same RDD reusing the first one's staged data, bit-identical to staging it again; DL4J listeners shown every
 * step with its loss.
 */
@Tag("slow")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DataSetStagingTest
{
    private JavaSparkContext sc;
    @TempDir
    Path work;

    @BeforeAll
    void start()
    {
        sc = new JavaSparkContext(Baton.sparkConf(new SparkConf().setMaster("local[2]").setAppName("staging-test")
            .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
            .set("spark.ui.enabled", "false")));
    }

    @AfterAll
    void stop()
    {
        sc.stop();
    }

    /** One DataSet of {@code n} examples of {@code [3, size, size]}, labels drawn from {@code classes}. */
    private static DataSet dataSet(final Random random, final int n, final int size, final int classes)
    {
        final float[] x = new float[n * 3 * size * size];
        for (int i = 0; i < x.length; i++)
        {
            x[i] = (float) random.nextGaussian();
        }
        final float[] y = new float[n * classes];
        for (int i = 0; i < n; i++)
        {
            y[i * classes + random.nextInt(classes)] = 1f;
        }
        return new DataSet(Nd4j.create(x, new long[] {n, 3, size, size}, 'c'),
            Nd4j.create(y, new long[] {n, classes}, 'c'));
    }

    private String target(final String name)
    {
        return work.resolve(name).toUri().toString();
    }

    @Test
    void everyExampleIsStagedOnceAsGivenNumberedByClassThenPartitionAndPosition()
    {
        final Random random = new Random(3);
        final List<DataSet> dataSets = new ArrayList<>();
        for (final int n : new int[] {3, 5, 1, 4, 2, 6})
        {
            dataSets.add(dataSet(random, n, 8, 5));
        }
        final DataSetStaging.Staged staged = DataSetStaging.stage(sc.parallelize(dataSets, 3), target("ok"));
        assertEquals(21, staged.samples());
        assertArrayEquals(new int[] {3, 8, 8}, staged.chw());
        assertEquals(5, staged.classes());

        // parallelize cuts contiguous slices, so (class, partition, position) is a stable sort of the list by class.
        final List<float[]> examples = new ArrayList<>();
        final List<Integer> labels = new ArrayList<>();
        for (final DataSet ds : dataSets)
        {
            for (int i = 0; i < ds.numExamples(); i++)
            {
                examples.add(ds.getFeatures().slice(i).dup('c').data().asFloat());
                labels.add(ds.getLabels().getRow(i).argMax().getInt(0));
            }
        }
        final Integer[] order = new Integer[examples.size()];
        Arrays.setAll(order, i -> i);
        Arrays.sort(order, Comparator.comparingInt(labels::get));

        final BatonConfig config = Settings.defaults().data(staged.uri()).set("data.image-size", 8).config();
        try (BatchSource train = DataSources.open(config, DataSources.TRAIN))
        {
            assertEquals(21, train.size());
            assertArrayEquals(new int[] {3, 8, 8}, train.shape());
            final int[] ids = new int[21];
            Arrays.setAll(ids, i -> i);
            final BatchSource.Batch epoch0 = train.load(ids, 0, true);
            final BatchSource.Batch eval = train.load(ids, 3, false);
            assertArrayEquals(epoch0.features().data().asFloat(), eval.features().data().asFloat(),
                "as stored, in training and evaluation alike");
            for (int id = 0; id < 21; id++)
            {
                assertArrayEquals(examples.get(order[id]), epoch0.features().slice(id).dup('c').data().asFloat(),
                    "sample " + id);
                assertEquals((int) labels.get(order[id]), train.label(id));
                assertEquals(labels.get(order[id]), epoch0.labels().getRow(id).argMax().getInt(0));
            }
        }
        assertEquals(DataSources.identity(config), DataSources.identity(Settings.defaults().data(DataSetStaging.stage(
            sc.parallelize(dataSets, 3), target("again")).uri()).set("data.image-size", 8).config()), "staging the same RDD again gives the same data identity");
    }

    @Test
    void dataSetsThatDisagreeInShapeAreRefusedNamingBoth()
    {
        final Random random = new Random(5);
        final List<DataSet> dataSets = List.of(dataSet(random, 2, 8, 4), dataSet(random, 2, 8, 4),
            dataSet(random, 2, 6, 4));
        assertRefused(sc.parallelize(dataSets, 1), "bad-shape", "DataSet 2 of partition 0 has examples of shape "
            + "[channels, height, width] = [3, 6, 6] but DataSet 0 of partition 0 has [3, 8, 8]");
        assertRefused(sc.parallelize(dataSets, 3), "bad-shape-across", "DataSet 0 of partition 2 has examples of "
            + "shape [channels, height, width] = [3, 6, 6] but DataSet 0 of partition 0 has [3, 8, 8]");
    }

    @Test
    void dataSetsThatDisagreeInLabelCountAreRefusedNamingBoth()
    {
        final Random random = new Random(6);
        assertRefused(sc.parallelize(List.of(dataSet(random, 2, 8, 4), dataSet(random, 2, 8, 5)), 2), "bad-labels",
            "DataSet 0 of partition 1 has 5 label columns but DataSet 0 of partition 0 has 4");
        assertRefused(sc.parallelize(List.of(dataSet(random, 2, 8, 4), dataSet(random, 2, 8, 5)), 1), "bad-labels-1",
            "DataSet 1 of partition 0 has 5 label columns but DataSet 0 of partition 0 has 4");
    }

    @Test
    void anEmptyRddIsRefused()
    {
        assertRefused(sc.parallelize(new ArrayList<DataSet>(), 2), "empty", "the training RDD is empty: its 2 "
            + "partition(s) hold no example");
    }

    @Test
    void labelsThatAreNotOneHotAndFlatFeaturesAreRefused()
    {
        final DataSet soft = dataSet(new Random(7), 2, 8, 3);
        soft.getLabels().putScalar(new long[] {1, 0}, 0.5);
        assertRefused(sc.parallelize(List.of(soft), 1), "soft", "DataSet 0 of partition 0 example 1 has labels [0.5,");
        final DataSet flat = new DataSet(Nd4j.rand(DataType.FLOAT, 2, 12), Nd4j.eye(2).castTo(DataType.FLOAT));
        assertRefused(sc.parallelize(List.of(flat), 1), "flat", "DataSet 0 of partition 0 has features of shape "
            + "[2, 12]; BatonTrainingMaster needs images as [examples, channels, height, width]");
    }

    @Test
    void multiDataSetsOfSeveralInputsAreRefusedInOneLine()
    {
        final MultiDataSet two = new MultiDataSet(new org.nd4j.linalg.api.ndarray.INDArray[] {Nd4j.rand(1, 3, 4, 4),
            Nd4j.rand(1, 3, 4, 4)}, new org.nd4j.linalg.api.ndarray.INDArray[] {Nd4j.eye(1)});
        final IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
            () -> BatonTrainingMaster.single(two));
        assertTrue(refused.getMessage().startsWith("a MultiDataSet with 2 feature and 1 label arrays"),
            refused.getMessage());
    }

    @Test
    void theBuilderRefusesDerivedKeysUnknownKeysAndAMissingRunDirectory()
    {
        final IllegalArgumentException derived = assertThrows(IllegalArgumentException.class,
            () -> new BatonTrainingMaster.Builder(4).set("data.path", "/x"));
        assertTrue(derived.getMessage().startsWith("data.path = /x: BatonTrainingMaster sets data.path from"),
            derived.getMessage());
        final IllegalArgumentException noDir = assertThrows(IllegalArgumentException.class,
            () -> new BatonTrainingMaster.Builder(4).build());
        assertTrue(noDir.getMessage().startsWith("runDirectory is not set"), noDir.getMessage());
        final RuntimeException unknown = assertThrows(RuntimeException.class,
            () -> new BatonTrainingMaster.Builder(4).runDirectory(target("r")).set("optim.base-lrr", 0.1).build());
        assertTrue(unknown.getMessage().contains("optim.base-lrr"), unknown.getMessage());
        final BatonTrainingMaster master = new BatonTrainingMaster.Builder(4).replicas(3).runDirectory(target("r"))
            .learningRate(0.2).build();
        assertTrue(master.toJson().contains("\"optim.base-lr\" : 0.2"), master.toJson());
        assertTrue(master.toJson().contains("\"replicas\" : 3"), master.toJson());
    }

    private void assertRefused(final JavaRDD<DataSet> rdd, final String name, final String expected)
    {
        final IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
            () -> DataSetStaging.stage(rdd, target(name)));
        assertTrue(refused.getMessage().contains(expected), refused.getMessage());
        assertFalse(refused.getMessage().contains("\n"), "one line: " + refused.getMessage());
        assertFalse(Files.exists(work.resolve(name)), "nothing left staged");
    }

    /** A MultiLayerNetwork CNN a DL4J user would write: conv, BN, ReLU, global average pooling, softmax. */
    private static MultiLayerConfiguration network()
    {
        return new NeuralNetConfiguration.Builder().seed(11).updater(new Sgd(0.1)).weightInit(WeightInit.RELU)
            .convolutionMode(ConvolutionMode.Same).list()
            .layer(new ConvolutionLayer.Builder(3, 3).nOut(6).activation(Activation.IDENTITY).build())
            .layer(new BatchNormalization.Builder().build())
            .layer(new ActivationLayer(Activation.RELU))
            .layer(new GlobalPoolingLayer(PoolingType.AVG))
            .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX)
                .build())
            .setInputType(InputType.convolutional(8, 8, 3))
            .build();
    }

    @Test
    void sparkDl4jMultiLayerTrainsThroughBatonAndEqualsBatonsOwnPath()
    {
        final Random random = new Random(9);
        final List<DataSet> dataSets = new ArrayList<>();
        for (int i = 0; i < 4; i++)
        {
            dataSets.add(dataSet(random, 4, 8, 3));
        }
        final MultiLayerNetwork net = new MultiLayerNetwork(network());
        net.init();
        final MultiLayerNetwork initial = net.clone();
        final StringWriter log = new StringWriter();
        final BatonTrainingMaster tm = new BatonTrainingMaster.Builder(4).replicas(2).epochs(1).learningRate(0.05)
            .baseBatch(8).warmupEpochs(0).set("collective.host", "127.0.0.1").set("collective.timeout", "20s")
            .set("cluster.slot-wait", "0s").set("progress.interval", "60s").runDirectory(target("mln"))
            .progressTo(new PrintWriter(log, true)).build();
        final SparkDl4jMultiLayer sparkNet = new SparkDl4jMultiLayer(sc, net, tm);
        sparkNet.fit(sc.parallelize(dataSets, 2));
        assertTrue(log.toString().contains("staged 16 examples of shape [3, 8, 8], 3 classes"), log.toString());
        assertEquals(2, tm.lastResult().steps());
        assertTrue(Double.isFinite(sparkNet.getScore()));

        final TrainResult own = Baton.on(sc).progressTo(new PrintWriter(new StringWriter())).train(Model.of(initial),
            Settings.defaults().replicas(1).globalBatch(8).epochs(1).set("optim.base-lr", 0.05)
                .set("optim.base-batch", 8).set("optim.warmup-epochs", 0).set("collective.host", "127.0.0.1")
                .set("cluster.slot-wait", "0s").set("progress.interval", "60s").data(tm.stagedDataOfFit(1))
                .set("data.image-size", 8).runDir(target("mln-own")));
        double max = 0;
        for (final java.util.Map.Entry<String, org.nd4j.linalg.api.ndarray.INDArray> param
            : net.paramTable().entrySet())
        {
            final float[] drop = param.getValue().castTo(DataType.FLOAT).dup('c').data().asFloat();
            final float[] reference = own.model().getParam(param.getKey()).castTo(DataType.FLOAT).dup('c').data()
                .asFloat();
            assertEquals(reference.length, drop.length, param.getKey());
            for (int i = 0; i < drop.length; i++)
            {
                max = Math.max(max, Math.abs((double) drop[i] - reference[i]));
            }
        }
        final float[] drop = net.params().castTo(DataType.FLOAT).dup('c').data().asFloat();
        assertTrue(max <= 1e-4, "SparkDl4jMultiLayer through BatonTrainingMaster vs Baton's own path: " + max);
        assertFalse(Arrays.equals(drop, initial.params().castTo(DataType.FLOAT).dup('c').data().asFloat()),
            "getNetwork() holds the trained parameters");
        assertTrue(sparkNet.getNetwork() == net, "the wrapper keeps the caller's network");
        assertTrue(sparkNet.evaluate(sc.parallelize(dataSets, 2)).accuracy() >= 0, "DL4J's evaluate runs");
    }

    @Test
    void fittingFromPathsOfExportedDataSetsTrainsExactlyAsTheSameDataSetsInAnRdd() throws Exception
    {
        final Random random = new Random(11);
        final List<DataSet> dataSets = new ArrayList<>();
        final List<String> paths = new ArrayList<>();
        final Path exported = java.nio.file.Files.createDirectories(work.resolve("exported"));
        for (int i = 0; i < 4; i++)
        {
            final DataSet ds = dataSet(random, 4, 8, 3);
            dataSets.add(ds);
            final Path file = exported.resolve("dataset-" + i + ".bin");
            ds.save(file.toFile());
            paths.add(file.toUri().toString());
        }
        final MultiLayerNetwork fromPaths = new MultiLayerNetwork(network());
        fromPaths.init();
        final MultiLayerNetwork fromRdd = fromPaths.clone();
        new SparkDl4jMultiLayer(sc, fromPaths, master("paths")).fitPaths(sc.parallelize(paths, 2));
        new SparkDl4jMultiLayer(sc, fromRdd, master("rdd")).fit(sc.parallelize(dataSets, 2));
        final float[] a = fromPaths.params().castTo(DataType.FLOAT).dup('c').data().asFloat();
        assertTrue(Arrays.equals(a, fromRdd.params().castTo(DataType.FLOAT).dup('c').data().asFloat()),
            "the same examples in the same order train to the same parameters");

        // DL4J's fit(directory): every file of the folder, in the order DL4J lists them.
        final BatonTrainingMaster directory = master("directory");
        final MultiLayerNetwork fromDirectory = new MultiLayerNetwork(network());
        fromDirectory.init();
        new SparkDl4jMultiLayer(sc, fromDirectory, directory).fit(exported.toUri().toString());
        assertEquals(2, directory.lastResult().steps());
        assertEquals(0, directory.lastResult().valSamples(), "no end-of-run evaluation in a fit by default");
        assertEquals(16, stagedExamples(directory.stagedDataOfFit(1)), "all 16 exported examples staged");
    }

    /** Examples in the train split of staged data (its manifest). */
    private static long stagedExamples(final String uri)
    {
        try (BatchSource train = DataSources.open(Settings.defaults().data(uri).set("data.image-size", 8).config(),
            DataSources.TRAIN))
        {
            return train.size();
        }
    }

    /** The staged-data directories ({@code fit-<n>-data}) under a master's run directory, sorted. */
    private List<String> stagedDirectories(final String name) throws java.io.IOException
    {
        try (java.util.stream.Stream<Path> entries = Files.list(work.resolve(name)))
        {
            return entries.map(p -> p.getFileName().toString()).filter(n -> n.endsWith("-data")).sorted().toList();
        }
    }

    @Test
    void aSecondFitOnTheSameRddTrainsOnTheDataTheFirstStagedAsStagingItAgainWould() throws Exception
    {
        final Random random = new Random(13);
        final List<DataSet> dataSets = new ArrayList<>();
        for (int i = 0; i < 4; i++)
        {
            dataSets.add(dataSet(random, 4, 8, 3));
        }
        final MultiLayerNetwork reused = new MultiLayerNetwork(network());
        reused.init();
        final MultiLayerNetwork restaged = reused.clone();
        final StringWriter log = new StringWriter();
        final BatonTrainingMaster once = master("once", new PrintWriter(log, true));
        final SparkDl4jMultiLayer onceNet = new SparkDl4jMultiLayer(sc, reused, once);
        final JavaRDD<DataSet> rdd = sc.parallelize(dataSets, 2);
        onceNet.fit(rdd);
        final float[] afterOne = reused.params().castTo(DataType.FLOAT).dup('c').data().asFloat();
        onceNet.fit(rdd);
        assertEquals(List.of("fit-1-data"), stagedDirectories("once"), "the second fit staged nothing");
        assertEquals(once.stagedDataOfFit(1), once.stagedDataOfFit(2));
        assertTrue(log.toString().contains("fit 2: RDD " + rdd.id() + " was staged by an earlier fit: training on "
            + once.stagedDataOfFit(1) + " (16 examples) without staging it again"), log.toString());

        // The reference: another RDD object of the same data for the second fit, so it is staged again.
        final BatonTrainingMaster twice = master("twice");
        final SparkDl4jMultiLayer twiceNet = new SparkDl4jMultiLayer(sc, restaged, twice);
        twiceNet.fit(sc.parallelize(dataSets, 2));
        twiceNet.fit(sc.parallelize(dataSets, 2));
        assertEquals(List.of("fit-1-data", "fit-2-data"), stagedDirectories("twice"));
        final float[] a = reused.params().castTo(DataType.FLOAT).dup('c').data().asFloat();
        assertArrayEquals(restaged.params().castTo(DataType.FLOAT).dup('c').data().asFloat(), a,
            "reusing the staged data trains exactly as staging the same data again");
        assertFalse(Arrays.equals(afterOne, a), "the second fit trained");

        // Deleted staged data is staged again, and a fit that has not run is refused naming its number.
        assertTrue(once.deleteTempFiles(sc));
        assertEquals(List.of(), stagedDirectories("once"));
        onceNet.fit(rdd);
        assertEquals(List.of("fit-3-data"), stagedDirectories("once"));
        final IllegalArgumentException notRun = assertThrows(IllegalArgumentException.class,
            () -> once.stagedDataOfFit(4));
        assertEquals("fit 4 has not trained on this master (3 fit(s) so far, numbered from 1)", notRun.getMessage());
    }

    @Test
    void dl4jListenersSeeEveryBatonStepWithItsLossInStepOrder() throws Exception
    {
        final Random random = new Random(17);
        final List<DataSet> dataSets = new ArrayList<>();
        for (int i = 0; i < 4; i++)
        {
            dataSets.add(dataSet(random, 4, 8, 3));
        }
        final MultiLayerNetwork net = new MultiLayerNetwork(network());
        net.init();
        final BatonTrainingMaster tm = new BatonTrainingMaster.Builder(4).replicas(2).epochs(2).learningRate(0.05)
            .baseBatch(8).warmupEpochs(0).set("collective.host", "127.0.0.1").set("collective.timeout", "20s")
            .set("cluster.slot-wait", "0s").set("progress.interval", "60s").runDirectory(target("listeners"))
            .progressTo(new PrintWriter(new StringWriter(), true)).build();
        final SparkDl4jMultiLayer sparkNet = new SparkDl4jMultiLayer(sc, net, tm);
        final List<String> calls = new ArrayList<>();
        sparkNet.setListeners(new org.deeplearning4j.optimize.api.BaseTrainingListener()
        {
            @Override
            public void iterationDone(final org.deeplearning4j.nn.api.Model model, final int iteration,
                final int epoch)
            {
                assertTrue(model == net, "the driver's network");
                calls.add("iteration " + iteration + " epoch " + epoch + " score " + model.score());
            }

            @Override
            public void onEpochStart(final org.deeplearning4j.nn.api.Model model)
            {
                calls.add("start");
            }

            @Override
            public void onEpochEnd(final org.deeplearning4j.nn.api.Model model)
            {
                calls.add("end");
            }
        });
        final JavaRDD<DataSet> rdd = sc.parallelize(dataSets, 2);
        sparkNet.fit(rdd);
        sparkNet.fit(rdd);
        // 16 examples, global batch 8, 2 epochs: 4 steps per fit. The losses as Baton's rank 0 logged them.
        final List<String> expected = new ArrayList<>();
        int iteration = 0;
        for (int fit = 1; fit <= 2; fit++)
        {
            final List<String> lines = Files.readAllLines(Path.of(java.net.URI.create(tm.runDirectoryOfFit(fit)))
                .resolve("metrics.jsonl"));
            assertEquals(4, lines.size(), "steps of fit " + fit);
            for (int step = 0; step < 4; step++)
            {
                final java.util.regex.Matcher loss = java.util.regex.Pattern.compile("\"loss\":([^,}]+)")
                    .matcher(lines.get(step));
                assertTrue(loss.find(), lines.get(step));
                if (step % 2 == 0)
                {
                    expected.add("start");
                }
                expected.add("iteration " + iteration++ + " epoch " + ((fit - 1) * 2 + step / 2) + " score "
                    + Double.parseDouble(loss.group(1)));
                if (step % 2 == 1)
                {
                    expected.add("end");
                }
            }
        }
        assertEquals(expected, calls);
        assertEquals(tm.lastResult().lastLoss(), net.score(), 0.0, "the network's score is the last step's loss");

        final UnsupportedOperationException router = assertThrows(UnsupportedOperationException.class,
            () -> tm.setListeners(new org.deeplearning4j.core.storage.impl.CollectionStatsStorageRouter(
                new ArrayList<>(), new ArrayList<>(), new ArrayList<>()), List.of()));
        assertTrue(router.getMessage().startsWith("BatonTrainingMaster does not route DL4J training stats to a "
            + "StatsStorageRouter"), router.getMessage());
        final UnsupportedOperationException stats = assertThrows(UnsupportedOperationException.class,
            () -> sparkNet.setCollectTrainingStats(true));
        assertTrue(stats.getMessage().startsWith("BatonTrainingMaster collects no DL4J SparkTrainingStats"),
            stats.getMessage());
    }

    private BatonTrainingMaster master(final String name)
    {
        return master(name, new PrintWriter(new StringWriter(), true));
    }

    private BatonTrainingMaster master(final String name, final PrintWriter progress)
    {
        return new BatonTrainingMaster.Builder(4).replicas(2).epochs(1).learningRate(0.05).baseBatch(8)
            .warmupEpochs(0).set("collective.host", "127.0.0.1").set("collective.timeout", "20s")
            .set("cluster.slot-wait", "0s").set("progress.interval", "60s").runDirectory(target(name))
            .progressTo(progress).build();
    }
}
