package io.baton.trainer.syncbn;

import io.baton.common.collective.Communicator;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/** Builds stand-alone BN / SyncBN layers with identical parameters and runs one training step on them. */
final class BnHarness
{
    static final double DECAY = 0.8;
    static final double EPS = 1e-5;

    private BnHarness()
    {
    }

    /** DL4J's BN; {@code logStd} = the Builder's default running-variance storage (log10 of the std). */
    static BatchNormalization plainConf(final int channels, final boolean logStd)
    {
        return new BatchNormalization.Builder().nIn(channels).nOut(channels).decay(DECAY).eps(EPS).useLogStd(logStd)
            .build();
    }

    static SyncBatchNorm syncConf(final int channels, final boolean logStd, final boolean unbiased)
    {
        return SyncBatchNorm.from(plainConf(channels, logStd), 0).unbiasedRunningVariance(unbiased);
    }

    /** A layer with gamma, beta, running mean and running var set from a fixed seed (same for every call). */
    static Layer create(final BatchNormalization conf)
    {
        final NeuralNetConfiguration nnc = new NeuralNetConfiguration.Builder().layer(conf).build();
        final long n = nnc.getLayer().initializer().numParams(nnc);
        final INDArray params = Nd4j.create(DataType.FLOAT, 1, n);
        final Layer layer = nnc.getLayer().instantiate(nnc, null, 0, params, true, DataType.FLOAT);
        layer.setBackpropGradientsViewArray(Nd4j.create(DataType.FLOAT, 1, n));
        final int channels = Math.toIntExact(conf.getNOut());
        Nd4j.getRandom().setSeed(99);
        layer.getParam("gamma").assign(Nd4j.rand(DataType.FLOAT, channels).addi(0.5));
        layer.getParam("beta").assign(Nd4j.randn(DataType.FLOAT, channels));
        layer.getParam("mean").assign(Nd4j.randn(DataType.FLOAT, channels).muli(0.5).addi(2.5));
        final INDArray runningVar = Nd4j.rand(DataType.FLOAT, channels).addi(1.0);
        if (conf.isUseLogStd())
        {
            layer.getParam("log10stdev").assign(Nd4j.math().log(runningVar, 10.0).muli(0.5));
        }
        else
        {
            layer.getParam("var").assign(runningVar);
        }
        return layer;
    }

    /** Output, input gradient and parameter gradients of one training step. */
    static final class Step
    {
        final INDArray out;
        final INDArray dx;
        final INDArray dGamma;
        final INDArray dBeta;
        final INDArray dMean;
        final INDArray dVar;

        Step(final INDArray out, final Pair<Gradient, INDArray> bp)
        {
            this.out = out.dup();
            this.dx = bp.getSecond().dup();
            this.dGamma = bp.getFirst().getGradientFor("gamma").dup();
            this.dBeta = bp.getFirst().getGradientFor("beta").dup();
            this.dMean = bp.getFirst().getGradientFor("mean").dup();
            final INDArray var = bp.getFirst().getGradientFor("var");
            this.dVar = (var != null ? var : bp.getFirst().getGradientFor("log10stdev")).dup();
        }
    }

    static Step step(final Layer layer, final INDArray x, final INDArray eps)
    {
        final LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        layer.setInput(x, mgr);
        final INDArray out = layer.activate(true, mgr);
        return new Step(out, layer.backpropGradient(eps, mgr));
    }

    /** Runs {@code step} on every rank in its own thread; element r of the result is rank r's step. */
    static List<Step> runReplicas(
        final List<? extends Communicator> comms,
        final IntFunction<Layer> layerOfRank,
        final List<INDArray> xs,
        final List<INDArray> epss) throws Exception
    {
        final ExecutorService pool = Executors.newFixedThreadPool(comms.size());
        try
        {
            final List<Future<Step>> futures = new ArrayList<>();
            for (int r = 0; r < comms.size(); r++)
            {
                final int rank = r;
                futures.add(pool.submit(() ->
                {
                    final Layer layer = layerOfRank.apply(rank);
                    ((SyncBatchNormLayer)layer).bind(comms.get(rank));
                    return step(layer, xs.get(rank), epss.get(rank));
                }));
            }
            final List<Step> out = new ArrayList<>();
            for (final Future<Step> f : futures)
            {
                out.add(f.get(60, TimeUnit.SECONDS));
            }
            return out;
        }
        finally
        {
            pool.shutdownNow();
        }
    }

    /** Splits dimension 0 of {@code a} into consecutive slices of the given sizes (0 allowed). */
    static List<INDArray> split(final INDArray a, final int... sizes)
    {
        final List<INDArray> out = new ArrayList<>();
        long from = 0;
        for (final int size : sizes)
        {
            final long[] shape = a.shape().clone();
            shape[0] = size;
            if (size == 0)
            {
                out.add(Nd4j.create(a.dataType(), shape));
            }
            else
            {
                out.add(a.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(from, from + size)).dup());
            }
            from += size;
        }
        return out;
    }

    /** Concatenates the non-empty arrays along dimension 0. */
    static INDArray concat(final List<INDArray> parts)
    {
        final List<INDArray> nonEmpty = new ArrayList<>();
        for (final INDArray p : parts)
        {
            if (p.size(0) > 0)
            {
                nonEmpty.add(p);
            }
        }
        return Nd4j.concat(0, nonEmpty.toArray(new INDArray[0]));
    }

    /** max |actual - expected| / max |expected|. */
    static double relError(final INDArray actual, final INDArray expected)
    {
        final INDArray a = actual.castTo(DataType.DOUBLE).reshape(actual.length());
        final INDArray e = expected.castTo(DataType.DOUBLE).reshape(expected.length());
        final double scale = Math.max(e.amaxNumber().doubleValue(), 1e-30);
        return a.sub(e).amaxNumber().doubleValue() / scale;
    }
}
