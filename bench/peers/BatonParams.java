// Launched by bench/peers/run.sh as a single-file program on Baton's own classpath (never on the peers' one).
//   init <out.bin> <conf> [key=value...]  parameters of Baton's rank-0 initial replica graph (TrainingRecipe.replicaGraph)
//   zip <model.zip> <out.bin>             parameters of a trained Baton model
// Output: int count, then float32 big-endian values (the harness's format).
import io.baton.common.config.BatonConfig;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import io.baton.trainer.TrainerKeys;
import io.baton.trainer.backend.NativeRuntime;
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
        else
        {
            throw new IllegalArgumentException("mode must be init or zip, was " + args[0]);
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
