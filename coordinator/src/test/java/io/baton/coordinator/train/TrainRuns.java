package io.baton.coordinator.train;

import io.baton.common.checkpoint.CheckpointStore;
import io.baton.common.checkpoint.PartInfo;
import io.baton.common.config.BatonConfig;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import io.baton.trainer.run.ReplicaState;
import org.apache.hadoop.conf.Configuration;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Small in-process training runs for the resume and recovery tests: resnet20 on 16x16 generated pattern images,
 * 32 samples, global batch 8 (4 steps per epoch), 2 epochs, checkpoints every 3 steps and at epoch ends.
 */
final class TrainRuns
{
    static final long TOTAL_STEPS = 8;

    private TrainRuns()
    {
    }

    static BatonConfig config(final String runDir, final String... overrides)
    {
        final List<String> all = new ArrayList<>(List.of(
            "model.arch=resnet20", "data.image-size=16", "data.synthetic-classes=4", "data.synthetic-samples=32",
            "data.synthetic-val-samples=8", "train.global-batch=8", "train.replicas=2", "train.epochs=2",
            "optim.base-lr=0.05", "optim.base-batch=8", "optim.warmup-epochs=0.5", "optim.decay-epochs=[1]",
            "collective.host=127.0.0.1", "collective.timeout=8s", "checkpoint.every=3", "checkpoint.keep-last=10",
            "progress.interval=60s", "cluster.master=\"local[2]\"", "cluster.slot-wait=0s", "recovery.backoff=0s",
            "run.dir=\"" + runDir + "\""));
        all.addAll(Arrays.asList(overrides));
        return new ConfigLoader(ConfigDef.discover()).load(null, all);
    }

    /** Runs {@code baton train} in this JVM; returns the driver's output. */
    static String train(final BatonConfig config, final ResumeRequest resume)
    {
        final StringWriter text = new StringWriter();
        final TrainJob job = new TrainJob(config, new PrintWriter(text, true), resume);
        try
        {
            job.run(job.plan());
        }
        catch (final Exception ex)
        {
            throw new TrainFailed(text.toString(), ex);
        }
        return text.toString();
    }

    /** A run that failed, with the driver's output. */
    static final class TrainFailed extends RuntimeException
    {
        private static final long serialVersionUID = 1L;

        final String output;

        TrainFailed(final String output, final Exception cause)
        {
            super(cause.getMessage(), cause);
            this.output = output;
        }
    }

    static String checkpointDir(final String runDir)
    {
        return (runDir.endsWith("/") ? runDir : runDir + "/") + "checkpoints";
    }

    /** The raw bytes of a part of the checkpoint of {@code step}. */
    static byte[] part(final String runDir, final long step, final String part) throws IOException
    {
        try (CheckpointStore store = CheckpointStore.openReadOnly(checkpointDir(runDir), new Configuration()))
        {
            return store.open(step).readPart(part);
        }
    }

    static float[] params(final String runDir, final long step) throws IOException
    {
        return floats(runDir, step, ReplicaState.PARAMS);
    }

    /** The optimiser's momentum buffer in the checkpoint of {@code step}. */
    static float[] momentum(final String runDir, final long step) throws IOException
    {
        return floats(runDir, step, ReplicaState.MOMENTUM);
    }

    /** A float part ({@link ReplicaState}'s part names) of the checkpoint of {@code step}. */
    static float[] floats(final String runDir, final long step, final String part) throws IOException
    {
        final ByteBuffer bytes = ByteBuffer.wrap(part(runDir, step, part)).order(ByteOrder.LITTLE_ENDIAN);
        final float[] out = new float[bytes.remaining() / Float.BYTES];
        bytes.asFloatBuffer().get(out);
        return out;
    }

    /** The names of the parts of the checkpoint of {@code step}, in the order they were written. */
    static List<String> partNames(final String runDir, final long step) throws IOException
    {
        try (CheckpointStore store = CheckpointStore.openReadOnly(checkpointDir(runDir), new Configuration()))
        {
            return store.open(step).parts().stream().map(PartInfo::name).toList();
        }
    }

    /** The step of the newest checkpoint whose state was taken before {@code wallTimeMs}; -1 if there is none. */
    static long newestTakenBefore(final String runDir, final long wallTimeMs) throws IOException
    {
        long newest = -1;
        try (CheckpointStore store = CheckpointStore.openReadOnly(checkpointDir(runDir), new Configuration()))
        {
            for (final long step : store.list())
            {
                if (store.open(step).metadata().wallTimeMs() < wallTimeMs)
                {
                    newest = Math.max(newest, step);
                }
            }
        }
        return newest;
    }

    static List<Long> steps(final String runDir) throws IOException
    {
        try (CheckpointStore store = CheckpointStore.openReadOnly(checkpointDir(runDir), new Configuration()))
        {
            return store.list();
        }
    }
}
