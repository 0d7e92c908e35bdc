package io.baton.api;

import io.baton.api.dl4j.BatonTrainingMaster;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.listeners.CollectScoresIterationListener;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * A program written the way DL4J's Spark examples are (a {@code SparkComputationGraph} over a training master, an
 * RDD of DataSets, {@code fit}, {@code evaluate}), with {@link BatonTrainingMaster} as its training master: 2
 * replicas x 4 examples, 2 epochs. Then, on the same context, Baton's own library path trains the same initial graph
 * on the data the master staged (a prepared data set, as {@code baton train --data} takes) with 1 replica x 8, and
 * once more with a 1 % higher learning rate. A DL4J listener on the Spark network collects the steps' scores. Run in its own driver JVM by {@link Dl4jSparkProgramTest}; prints one
 * line per result for the test to read.
 *
 * <p>Arguments: master URL, work directory.
 */
public final class Dl4jSparkProgram
{
    private Dl4jSparkProgram()
    {
    }

    public static void main(final String[] args)
    {
        final Path work = Path.of(args[1]);
        final JavaSparkContext sc = new JavaSparkContext(Baton.sparkConf(new SparkConf().setMaster(args[0])
            .setAppName("dl4j-spark-example")));
        try
        {
            final JavaRDD<DataSet> trainData = sc.parallelize(patterns(8, 4, 16, 4, 7), 2);
            final ComputationGraph net = new ComputationGraph(UserCnn.configuration(16, 4));
            net.init();
            final ComputationGraph initial = net.clone();

            final BatonTrainingMaster tm = new BatonTrainingMaster.Builder(4)
                .replicas(2).epochs(2)
                .learningRate(0.05).baseBatch(8).warmupEpochs(0.5)
                .set("optim.decay-epochs", List.of(1))
                .set("collective.host", "127.0.0.1").set("collective.timeout", "60s").set("cluster.slot-wait", "90s")
                .checkpointEvery(3).set("progress.interval", "60s")
                // Baton's own evaluation of the staged examples, to compare with DL4J's evaluate below.
                .set("run.final-evaluation", true)
                .runDirectory(work.resolve("runs").toUri().toString())
                .build();
            final TrainingMaster<?, ?> master = tm;
            final SparkComputationGraph sparkNet = new SparkComputationGraph(sc, net, master);
            final CollectScoresIterationListener scores = new CollectScoresIterationListener(1);
            sparkNet.setListeners(scores);
            sparkNet.fit(trainData);
            final double[] seen = scores.getScoreVsIter().getEffectiveScores();
            System.out.println("LISTENER iterations=" + seen.length + " lastScore=" + seen[seen.length - 1]);
            final Evaluation eval = sparkNet.evaluate(trainData);
            System.out.println("EVAL accuracy=" + eval.accuracy() + " examples=" + java.util.stream.IntStream.range(0, 4)
                .map(c -> eval.getConfusion().getActualTotal(c)).sum() + " batonTop1="
                + tm.lastResult().valTop1() + " steps=" + tm.lastResult().steps() + " score=" + sparkNet.getScore());

            final Settings reference = Settings.defaults().replicas(1).globalBatch(8).epochs(2)
                .set("optim.base-lr", 0.05).set("optim.base-batch", 8).set("optim.warmup-epochs", 0.5)
                .set("optim.decay-epochs", List.of(1)).set("collective.host", "127.0.0.1")
                .set("collective.timeout", "60s").set("cluster.slot-wait", "90s").set("checkpoint.every", 3)
                .set("progress.interval", "60s").data(tm.stagedDataOfFit(1)).set("data.image-size", 16);
            final TrainResult one = Baton.on(sc).train(Model.of(initial), reference.runDir(work.resolve("one")
                .toString()));
            final TrainResult lr = Baton.on(sc).train(Model.of(initial), reference.set("optim.base-lr", 0.0505)
                .runDir(work.resolve("lr").toString()));
            final float[] drop = LibraryApiTest.params(sparkNet.getNetwork());
            System.out.println("DIFF " + LibraryApiTest.maxAbsDifference(drop, LibraryApiTest.params(one.model()))
                + " LRDIFF " + LibraryApiTest.maxAbsDifference(LibraryApiTest.params(one.model()),
                LibraryApiTest.params(lr.model())) + " TRAINED " + !Arrays.equals(drop,
                LibraryApiTest.params(initial)));
        }
        finally
        {
            sc.stop();
        }
    }

    /**
     * {@code dataSets} DataSets of {@code perDataSet} examples each, {@code size x size x 3}, {@code classes}
     * classes: a class-coloured square in a class-placed quadrant over Gaussian noise; a function of the seed.
     */
    static List<DataSet> patterns(final int dataSets, final int perDataSet, final int size, final int classes,
        final long seed)
    {
        final Random random = new Random(seed);
        final List<DataSet> out = new ArrayList<>();
        for (int d = 0; d < dataSets; d++)
        {
            final float[] x = new float[perDataSet * 3 * size * size];
            final float[] y = new float[perDataSet * classes];
            for (int i = 0; i < perDataSet; i++)
            {
                final int label = random.nextInt(classes);
                y[i * classes + label] = 1f;
                for (int c = 0; c < 3; c++)
                {
                    for (int h = 0; h < size; h++)
                    {
                        for (int w = 0; w < size; w++)
                        {
                            final boolean inSquare = h / (size / 2) == label / 2 && w / (size / 2) == label % 2;
                            x[((i * 3 + c) * size + h) * size + w] = (float) (random.nextGaussian() * 0.5
                                + (inSquare && c == label % 3 ? 1.5 : 0));
                        }
                    }
                }
            }
            out.add(new DataSet(Nd4j.create(x, new long[] {perDataSet, 3, size, size}, 'c'),
                Nd4j.create(y, new long[] {perDataSet, classes}, 'c')));
        }
        return out;
    }
}
