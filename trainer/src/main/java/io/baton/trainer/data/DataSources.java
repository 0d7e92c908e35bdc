package io.baton.trainer.data;

import io.baton.common.config.BatonConfig;
import io.baton.trainer.TrainerKeys;
import io.baton.trainer.data.image.ImageDecoder;
import io.baton.trainer.data.image.JpegBackend;
import io.baton.trainer.data.image.TransformSpec;
import io.baton.trainer.data.shard.ShardedDataset;
import io.baton.trainer.data.shard.TensorEncoding;
import io.baton.trainer.data.synthetic.PatternBatchSource;
import io.baton.trainer.data.synthetic.PatternImages;
import org.apache.hadoop.fs.UnsupportedFileSystemException;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/** Opens the training or validation split a configuration names: prepared shards, or generated pattern images. */
public final class DataSources
{
    /** Split names as written by {@code baton prepare}. */
    public static final String TRAIN = "train";
    public static final String VAL = "val";

    private DataSources()
    {
    }

    public static BatchSource open(final BatonConfig config, final String split)
    {
        final String path = config.get(TrainerKeys.DATA_PATH);
        final long seed = config.get(TrainerKeys.TRAIN_SEED);
        final int imageSize = config.get(TrainerKeys.DATA_IMAGE_SIZE);
        if (path == null)
        {
            final PatternImages images = new PatternImages(seed, config.get(TrainerKeys.DATA_SYNTHETIC_CLASSES),
                imageSize, imageSize);
            final int trainSamples = config.get(TrainerKeys.DATA_SYNTHETIC_SAMPLES);
            if (TRAIN.equals(split))
            {
                return new PatternBatchSource(images, trainSamples, seed);
            }
            // Validation samples are the ids after the training ones: same classes, unseen pixels.
            return new OffsetBatchSource(new PatternBatchSource(images,
                trainSamples + config.get(TrainerKeys.DATA_SYNTHETIC_VAL_SAMPLES), seed), trainSamples);
        }
        final ShardedDataset dataset = shards(config, path, split);
        if (TensorEncoding.isTensor(dataset.manifest()))
        {
            try
            {
                requireSquareAtImageSize(TensorEncoding.shape(dataset.manifest()), imageSize, path);
            }
            catch (final IllegalArgumentException ex)
            {
                closeQuietly(dataset);
                throw ex;
            }
            return new TensorBatchSource(dataset);
        }
        final JpegBackend backend = JpegBackend.valueOf(
            config.get(TrainerKeys.DATA_JPEG_DECODER).toUpperCase(Locale.ROOT).replace('-', '_'));
        return new ShardBatchSource(dataset, new ImageDecoder(backend, config.get(TrainerKeys.DATA_JPEG_DCT_SCALING),
            config.get(TrainerKeys.DATA_TURBOJPEG_JAR)),
            imageSize, seed, transformSpec(config),
            config.get(TrainerKeys.DATA_LOADER_THREADS), config.get(TrainerKeys.DATA_PREFETCH_BATCHES));
    }

    /**
     * {@code [channels, height, width]} of one example of the data a configuration names, from the manifest alone:
     * the stored shape of tensor data, {@code [3, data.image-size, data.image-size]} for images.
     */
    public static int[] exampleShape(final BatonConfig config)
    {
        final int size = config.get(TrainerKeys.DATA_IMAGE_SIZE);
        if (config.get(TrainerKeys.DATA_PATH) == null)
        {
            return new int[] {3, size, size};
        }
        return fromManifest(config, TRAIN, dataset -> TensorEncoding.isTensor(dataset.manifest())
            ? TensorEncoding.shape(dataset.manifest()) : new int[] {3, size, size});
    }

    /** Tensor data is trained as stored: its examples must be square at data.image-size (no resize is applied). */
    private static void requireSquareAtImageSize(final int[] chw, final int imageSize, final String path)
    {
        if (chw[1] != chw[2] || chw[1] != imageSize)
        {
            throw new IllegalArgumentException(TrainerKeys.DATA_IMAGE_SIZE.name() + " = " + imageSize + " but the "
                + "tensor examples of data.path " + path + " are [channels, height, width] = "
                + java.util.Arrays.toString(chw) + "; tensor data is used as stored, so height and width must both "
                + "equal " + TrainerKeys.DATA_IMAGE_SIZE.name());
        }
    }

    private static void closeQuietly(final ShardedDataset dataset)
    {
        try
        {
            dataset.close();
        }
        catch (final IOException ignored)
        {
            // The refusal being thrown is the error that matters.
        }
    }

    /** The augmentation and normalisation the data.augment.*, data.eval-resize-ratio and data.normalise.* keys say. */
    public static TransformSpec transformSpec(final BatonConfig config)
    {
        return TransformSpec.of(config.get(TrainerKeys.DATA_AUGMENT_SCALE), config.get(TrainerKeys.DATA_AUGMENT_RATIO),
            config.get(TrainerKeys.DATA_AUGMENT_PAD_CROP), config.get(TrainerKeys.DATA_AUGMENT_FLIP),
            config.get(TrainerKeys.DATA_EVAL_RESIZE_RATIO), config.get(TrainerKeys.DATA_NORMALISE_MEAN),
            config.get(TrainerKeys.DATA_NORMALISE_STD));
    }

    /**
     * The {@link DataIdentity} of data.path's prepared data (read from its manifest only), or "" for generated images,
     * which the data.synthetic-* keys and the seed already determine.
     */
    public static String identity(final BatonConfig config)
    {
        return config.get(TrainerKeys.DATA_PATH) == null ? ""
            : fromManifest(config, TRAIN, dataset -> DataIdentity.of(dataset.manifest()));
    }

    /** The class names of data.path's prepared data (read from its manifest only), or none for generated images. */
    public static List<String> classNames(final BatonConfig config)
    {
        return config.get(TrainerKeys.DATA_PATH) == null ? List.of()
            : fromManifest(config, TRAIN, ShardedDataset::classes);
    }

    /**
     * Checks, before anything starts, that each split can be opened from data.path: the manifest of a {@code baton
     * prepare} output is there and holds the split. Generated images (no data.path) always can. Reads only the
     * manifest.
     *
     * @throws IllegalArgumentException naming data.path and what is missing.
     */
    public static void requireReadable(final BatonConfig config, final String... splits)
    {
        if (config.get(TrainerKeys.DATA_PATH) == null)
        {
            return;
        }
        for (final String split : splits)
        {
            // Opened: the manifest is there and names the split.
            fromManifest(config, split, dataset -> null);
        }
    }

    /** What {@code read} takes from a split of data.path opened for its manifest (no shard is read). */
    private static <T> T fromManifest(final BatonConfig config, final String split,
        final Function<ShardedDataset, T> read)
    {
        final String path = config.get(TrainerKeys.DATA_PATH);
        try (ShardedDataset dataset = shards(config, path, split))
        {
            return read.apply(dataset);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("closing the manifest of data.path " + path + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * Opens a split's shards. A data.path without a prepared manifest, or without the split, is bad input: an
     * IllegalArgumentException naming data.path.
     */
    private static ShardedDataset shards(final BatonConfig config, final String path, final String split)
    {
        final String cache = config.get(TrainerKeys.DATA_CACHE_DIR);
        final Path cacheDir = cache != null ? Path.of(cache)
            : Path.of(System.getProperty("java.io.tmpdir"), "baton-shards");
        try
        {
            return ShardedDataset.open(toUri(path), split, cacheDir, config.get(TrainerKeys.DATA_CACHE_SIZE));
        }
        catch (final FileNotFoundException | IllegalArgumentException | UnsupportedFileSystemException ex)
        {
            throw new IllegalArgumentException("data.path = " + path + ": " + ex.getMessage(), ex);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot open split '" + split + "' of data.path " + path + ": "
                + ex.getMessage(), ex);
        }
    }

    /** A path or URI as a URI: plain paths are local files. */
    public static URI toUri(final String path)
    {
        final URI uri = URI.create(path.replace(" ", "%20"));
        return uri.getScheme() == null ? Path.of(path).toAbsolutePath().toUri() : uri;
    }
}
