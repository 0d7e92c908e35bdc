package io.baton.coordinator.train;

import io.baton.common.config.BatonConfig;
import io.baton.trainer.TrainerKeys;
import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.model.ModelSummary;
import io.baton.trainer.recipe.TrainingRecipe;
import org.bytedeco.javacpp.Pointer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;

import java.util.Locale;

/**
 * Checks, before anything starts, that the replicas this JVM will host fit its native memory limit (JavaCPP's
 * {@code maxPhysicalBytes}, 80 % of the machine by default), from DL4J's training memory estimate. Without it, a
 * batch or image size too large for the machine runs for a minute and dies with an OutOfMemoryError (a 32x32 model
 * retrained at 224x224 grew to 19 GB). Only the JVM's own replicas are checked: executors of a cluster have their
 * own memory, which the driver does not know. Not on the CUDA build, whose activations live in device memory.
 *
 * <p>Stateless and thread-safe.
 */
public final class MemoryPreflight
{
    /**
     * Resident memory per byte of DL4J's estimate, measured on the CPU backend: one ResNet-20 replica at 128x128,
     * batch 32, peaked at 7.7 GB resident against an estimate of 3.2 GB (1.0 GB at 32x32). Above the limit / this
     * factor, the job is likely to fail; above the limit itself, certain to.
     */
    static final double RESIDENT_PER_ESTIMATED_BYTE = 2.0;

    /** How the estimate compares with the limit. */
    public enum Level
    {
        FITS, TIGHT, EXCEEDS
    }

    private MemoryPreflight()
    {
    }

    /** The verdict for {@code replicas} replicas of {@code estimateBytes} each under {@code limitBytes} (<= 0: none). */
    static Level level(final long estimateBytes, final int replicas, final long limitBytes)
    {
        final double total = (double)estimateBytes * replicas;
        if (limitBytes <= 0 || total * RESIDENT_PER_ESTIMATED_BYTE <= limitBytes)
        {
            return Level.FITS;
        }
        return total > limitBytes ? Level.EXCEEDS : Level.TIGHT;
    }

    /**
     * Checks {@code replicas} replicas of the configured network at {@code perReplicaBatch} images each in this JVM.
     *
     * @return a warning line when the job is likely not to fit, else null.
     * @throws IllegalArgumentException when DL4J's estimate alone exceeds the limit (naming batch and image size).
     */
    public static String check(final BatonConfig config, final int perReplicaBatch, final int replicas,
        final int classes)
    {
        return check(config, perReplicaBatch, replicas, classes, null);
    }

    /**
     * As {@link #check(BatonConfig, int, int, int)}, with the replicas' configuration when the caller has it at hand
     * (model.graph's replica form, {@link TrainingRecipe#replicaConfiguration}); null builds it from the configuration.
     */
    public static String check(final BatonConfig config, final int perReplicaBatch, final int replicas,
        final int classes, final ComputationGraphConfiguration model)
    {
        return check(config, perReplicaBatch, replicas, classes, Pointer.maxPhysicalBytes(), model);
    }

    /** As {@link #check(BatonConfig, int, int, int)} against a given limit. */
    static String check(final BatonConfig config, final int perReplicaBatch, final int replicas, final int classes,
        final long limit)
    {
        return check(config, perReplicaBatch, replicas, classes, limit, null);
    }

    private static String check(final BatonConfig config, final int perReplicaBatch, final int replicas,
        final int classes, final long limit, final ComputationGraphConfiguration model)
    {
        if (!"cpu".equals(NativeRuntime.backend()))
        {
            return null;
        }
        final int size = config.get(TrainerKeys.DATA_IMAGE_SIZE);
        final int channels = io.baton.trainer.data.DataSources.exampleShape(config)[0];
        final ComputationGraphConfiguration conf = model != null ? model
            : TrainingRecipe.modelConfiguration(config, new int[] {size, size, channels}, classes);
        final long estimate = ModelSummary.of(config.get(TrainerKeys.MODEL_ARCH), conf,
            InputType.convolutional(size, size, channels), perReplicaBatch).trainingMemoryBytes();
        final Level level = level(estimate, replicas, limit);
        if (level == Level.FITS)
        {
            return null;
        }
        final String text = String.format(Locale.ROOT, "DL4J's training memory estimate for %s at %dx%d, %d "
                + "images per replica, is %s per replica; %d replica(s) in this JVM against its native memory limit "
                + "of %s (%s)", config.get(TrainerKeys.MODEL_ARCH), size, size, perReplicaBatch, mib(estimate),
            replicas, mib(limit), NativeRuntime.MAX_PHYSICAL_BYTES);
        final String advice = "; lower " + TrainerKeys.TRAIN_GLOBAL_BATCH.name() + " or "
            + TrainerKeys.DATA_IMAGE_SIZE.name() + " = " + size + ", or run on a machine or cluster with more memory";
        if (level == Level.EXCEEDS)
        {
            throw new IllegalArgumentException(text + ": it cannot fit" + advice);
        }
        return "WARNING: " + text + ": resident memory has measured about " + RESIDENT_PER_ESTIMATED_BYTE
            + "x the estimate on this backend, so it may not fit" + advice;
    }

    private static String mib(final long bytes)
    {
        return String.format(Locale.ROOT, "%,.0f MiB", bytes / (1024.0 * 1024.0));
    }
}
