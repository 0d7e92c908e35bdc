// Launched by bench/peers/run.sh as a single-file program on Baton's own classpath (never on the peers' one).
//   init <out.bin> <conf> [key=value...]  parameters of Baton's rank-0 initial replica graph (TrainingRecipe.replicaGraph)
//   zip <model.zip> <out.bin>             parameters of a trained Baton model
//   ckpt <ckpt-dir> <out.bin> <train> <val> <seed>
//                                         parameters of a Baton checkpoint (e.g. the one written at an epoch end) and
//                                         the eval-mode top-1 / log loss on the held-out ids [train, train+val) of the
//                                         generated pattern images, computed exactly as PeerBench.report does
// Output: int count, then float32 big-endian values (the harness's format).
import io.baton.common.config.BatonConfig;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import io.baton.trainer.TrainerKeys;
import io.baton.coordinator.export.CheckpointModel;
import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.data.BatchSource;
import io.baton.trainer.data.synthetic.PatternBatchSource;
import io.baton.trainer.data.synthetic.PatternImages;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import io.baton.trainer.recipe.TrainingRecipe;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.FileOutputStream;
import java.nio.file.Path;
import java.util.Arrays;

public final class BatonParams
{
    public static void main(final String[] args) throws Exception
    {
        NativeRuntime.configure();
        final ComputationGraph graph;
        if ("init".equals(args[0]))
        {
            final BatonConfig config = new ConfigLoader(ConfigDef.discover())
                .load(Path.of(args[2]), Arrays.asList(args).subList(3, args.length));
            final int size = config.get(TrainerKeys.DATA_IMAGE_SIZE);
            graph = TrainingRecipe.replicaGraph(config, new int[] {size, size, 3},
                config.get(TrainerKeys.DATA_SYNTHETIC_CLASSES));
        }
        else if ("zip".equals(args[0]))
        {
            graph = ModelSerializer.restoreComputationGraph(new File(args[1]), false);
        }
        else if ("ckpt".equals(args[0]))
        {
            graph = CheckpointModel.load(args[1]).graph();
            final int train = Integer.parseInt(args[3]);
            final int val = Integer.parseInt(args[4]);
            final long seed = Long.parseLong(args[5]);
            final BatchSource all = new PatternBatchSource(new PatternImages(seed, 10, 32, 32), train + val, seed);
            int correct = 0;
            double lossSum = 0;
            for (int start = 0; start < val; start += 64)
            {
                final int[] ids = new int[Math.min(64, val - start)];
                for (int i = 0; i < ids.length; i++)
                {
                    ids[i] = train + start + i;
                }
                final BatchSource.Batch b = all.load(ids, 0, false);
                final INDArray probs = graph.outputSingle(false, b.features());
                final INDArray predicted = probs.argMax(1);
                final INDArray truth = b.labels().argMax(1);
                for (int i = 0; i < ids.length; i++)
                {
                    correct += predicted.getInt(i) == truth.getInt(i) ? 1 : 0;
                }
                lossSum -= Nd4j.math().log(probs.add(1e-12)).mul(b.labels()).sumNumber().doubleValue();
            }
            System.out.printf(java.util.Locale.ROOT, "BatonParams eval %s eval_top1=%.4f eval_loss=%.4f%n", args[1],
                correct / (double)val, lossSum / val);
        }
        else
        {
            throw new IllegalArgumentException("mode must be init, zip or ckpt, was " + args[0]);
        }
        final float[] p = graph.params().dup().data().asFloat();
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(new FileOutputStream(args[args[0].equals("init") ? 1 : 2]))))
        {
            out.writeInt(p.length);
            for (final float v : p)
            {
                out.writeFloat(v);
            }
        }
        System.out.println("BatonParams " + args[0] + ": " + p.length + " floats");
    }
}
