package io.baton.trainer.bench;

import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.model.ModelOptions;
import io.baton.trainer.model.ResNetZoo;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * Benchmark (not a test): forward+backward time of a zoo network on the ND4J variant this JVM loaded. Run by
 * {@code bench/backend/run.sh}, once per native variant. Args: arch batch [H W C] (default resnet20 64).
 */
public final class BackendBench
{
    private BackendBench()
    {
    }

    public static void main(final String[] args)
    {
        NativeRuntime.configure();
        final String arch = args.length > 0 ? args[0] : "resnet20";
        final int batch = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        final ModelOptions.Builder builder = ModelOptions.builder(arch);
        if (args.length > 4)
        {
            builder.input(Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]));
        }
        final ModelOptions options = builder.build();
        final ComputationGraph net = ResNetZoo.graph(options);
        final INDArray x = Nd4j.rand(new int[] {batch, options.inputChannels(), options.inputHeight(),
            options.inputWidth()});
        final INDArray y = Nd4j.zeros(batch, options.numClasses());
        for (int i = 0; i < batch; i++)
        {
            y.putScalar(i, i % options.numClasses(), 1.0);
        }
        net.setInputs(x);
        net.setLabels(y);
        final int warmup = 2;
        final int runs = 7;
        final double[] seconds = new double[runs];
        for (int i = 0; i < warmup + runs; i++)
        {
            final long start = System.nanoTime();
            net.computeGradientAndScore();
            final long elapsedNs = System.nanoTime() - start;
            if (i >= warmup)
            {
                seconds[i - warmup] = elapsedNs / 1e9;
            }
        }
        Arrays.sort(seconds);
        final double median = seconds[runs / 2];
        System.out.printf("RESULT arch=%s batch=%d extension=%s helpers=%s median_s=%.3f images_per_s=%.1f%n",
            arch, batch, System.getProperty(NativeRuntime.PLATFORM_EXTENSION), NativeRuntime.oneDnnHelpersActive(),
            median, batch / median);
    }
}
