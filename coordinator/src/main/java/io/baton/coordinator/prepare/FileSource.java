package io.baton.coordinator.prepare;

import io.baton.common.store.HadoopConf;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.util.LongAccumulator;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An ImageNet-layout image tree ({@link InputScanner}) or ImageNet's own tar files ({@link TarInput}) at
 * {@link PrepareOptions#input()}; shards are written by {@link ShardTaskRunner}, one Spark task each.
 */
final class FileSource implements PrepareSource
{
    private final JavaSparkContext sc;
    private final PrepareOptions options;
    private final InputScanner scanner;
    private final TarInput tars;

    FileSource(final JavaSparkContext sc, final PrepareOptions options) throws IOException
    {
        this.sc = sc;
        this.options = options;
        final FileSystem fs = FileSystem.get(options.input(), HadoopConf.fresh());
        if (!fs.exists(new Path(options.input())))
        {
            throw new IllegalArgumentException("input " + options.input() + " does not exist");
        }
        this.scanner = new InputScanner(fs, options.input());
        this.tars = TarInput.isTarLayout(fs, options.input()) ? new TarInput(fs, options.input()) : null;
    }

    @Override
    public List<String> classes() throws IOException
    {
        return tars != null ? tars.classes() : scanner.classes();
    }

    @Override
    public SplitPlan scan(final String split, final List<String> classes) throws IOException
    {
        return tars != null ? tars.scan(sc, split, classes, options.valLabels(), options.valMapping())
            : scanner.scan(split, classes, options.valLabels(), options.valMapping());
    }

    @Override
    public List<ShardResult> write(final JavaSparkContext context, final SplitPlan plan, final List<ShardTask> tasks,
        final int numClasses, final LongAccumulator filesDone, final LongAccumulator bytesDone)
    {
        return new ArrayList<>(context.parallelize(tasks, tasks.size())
            .map(new ShardTaskRunner(options, numClasses, filesDone, bytesDone))
            .collect());
    }

    @Override
    public Map<String, Object> describe()
    {
        return Map.of("format", tars != null ? "imagenet-tars" : "image-tree");
    }
}
