package io.baton.coordinator.cli;

import io.baton.common.config.BatonConfig;
import io.baton.trainer.ModelConfigs;
import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.model.ModelOptions;
import io.baton.trainer.model.ModelSummary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code baton model}: describes a zoo network without allocating its parameters — per-stage output shapes and
 * parameters, both parameter totals, forward cost and DL4J's training memory estimate. The last line is
 * {@code params=<torchvision-comparable count>}, for scripts.
 */
@Command(name = "model", description = "Describe a ResNet: stages, parameters, FLOPs, training memory.")
public final class ModelCommand implements Callable<Integer>
{
    @Mixin
    ConfigOptions config;

    @Option(names = "--arch", paramLabel = "NAME", description = "Architecture (overrides model.arch), e.g. resnet152.")
    String arch;

    @Option(names = "--input", paramLabel = "H,W,C", split = ",",
        description = "Input height, width, channels (default: 224,224,3 for ImageNet nets, 32,32,3 for CIFAR nets).")
    int[] input;

    @Option(names = "--classes", paramLabel = "K", description = "Number of classes (default: 1000 / 10).")
    Integer classes;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "32", description = "Batch size for the memory estimate (default: ${DEFAULT-VALUE}).")
    int batch;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call()
    {
        if (input != null && (input.length != 3 || input[0] <= 0 || input[1] <= 0 || input[2] <= 0))
        {
            throw new IllegalArgumentException("--input must be H,W,C with three positive integers, was "
                + java.util.Arrays.toString(input));
        }
        if (classes != null && classes <= 0)
        {
            throw new IllegalArgumentException("--classes must be > 0, was " + classes);
        }
        if (batch <= 0)
        {
            throw new IllegalArgumentException("--batch must be > 0, was " + batch);
        }
        final List<String> extra = new ArrayList<>();
        if (arch != null)
        {
            extra.add("model.arch=" + arch);
        }
        final BatonConfig loaded = config.load(extra);
        final ModelOptions options = ModelConfigs.modelOptions(loaded, input, classes);
        final ModelSummary summary = ModelSummary.of(options, batch);

        final PrintWriter out = spec.commandLine().getOut();
        out.println(summary.format());
        final Map<String, String> backend = NativeRuntime.describe();
        out.printf("backend: %s%s, oneDNN helpers %s%n", backend.get("backend"), backend.get("nd4j.extension"),
            Boolean.parseBoolean(backend.get("onednn.helpers")) ? "active" : "OFF (slow path)");
        out.println("params=" + summary.torchvisionParams());
        out.flush();
        return 0;
    }
}
