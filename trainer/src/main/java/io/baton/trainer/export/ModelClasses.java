package io.baton.trainer.export;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * The class names a model was trained on, kept inside its zip as the entry {@value #ENTRY} (one name per line, line
 * i = output i), so that the model says what its outputs mean wherever it is copied, and so that evaluating or
 * retraining it on data whose classes are not its own is refused instead of scoring labels against the wrong
 * outputs. DL4J ignores the entry when it restores the model.
 *
 * <p>Threading: stateless.
 */
public final class ModelClasses
{
    /** Entry name inside a model zip; written first, so that reading it does not scan the parameters. */
    public static final String ENTRY = "baton/classes.txt";

    private ModelClasses()
    {
    }

    /**
     * Writes {@code graph} as DL4J's model zip to {@code out}, with {@code classes} as the first entry (none when
     * empty). {@code out} is not closed.
     */
    public static void writeModel(final ComputationGraph graph, final boolean saveUpdater, final List<String> classes,
        final OutputStream out) throws IOException
    {
        final Path staged = Files.createTempFile("baton-model-", ".zip");
        try
        {
            ModelSerializer.writeModel(graph, staged.toFile(), saveUpdater);
            copyWithClasses(staged, classes, out, List.of());
        }
        finally
        {
            Files.deleteIfExists(staged);
        }
    }

    /**
     * Copies the zip {@code from} to {@code out}: {@code classes} first (when not empty), then every entry of
     * {@code from} except an earlier class list, then {@code extra} (name, bytes) entries. {@code out} is not closed.
     */
    static void copyWithClasses(final Path from, final List<String> classes, final OutputStream out,
        final List<Map.Entry<String, byte[]>> extra) throws IOException
    {
        final ZipOutputStream zip = new ZipOutputStream(new NonClosing(out));
        if (!classes.isEmpty())
        {
            zip.putNextEntry(new ZipEntry(ENTRY));
            zip.write(String.join("\n", classes).concat("\n").getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
        }
        try (ZipFile in = new ZipFile(from.toFile()))
        {
            final Enumeration<? extends ZipEntry> entries = in.entries();
            while (entries.hasMoreElements())
            {
                final ZipEntry entry = entries.nextElement();
                if (entry.getName().equals(ENTRY))
                {
                    continue;
                }
                zip.putNextEntry(new ZipEntry(entry.getName()));
                try (InputStream data = in.getInputStream(entry))
                {
                    data.transferTo(zip);
                }
                zip.closeEntry();
            }
        }
        for (final Map.Entry<String, byte[]> e : extra)
        {
            zip.putNextEntry(new ZipEntry(e.getKey()));
            zip.write(e.getValue());
            zip.closeEntry();
        }
        zip.finish();
        zip.flush();
    }

    /**
     * The class names in a model zip read from {@code in} (not closed), or an empty list for a zip without them
     * (written before they were recorded, by DL4J directly, or trained on generated data).
     */
    public static List<String> read(final InputStream in) throws IOException
    {
        final ZipInputStream zip = new ZipInputStream(in);
        for (ZipEntry entry = zip.getNextEntry(); entry != null; entry = zip.getNextEntry())
        {
            if (entry.getName().equals(ENTRY))
            {
                final String text = new String(zip.readAllBytes(), StandardCharsets.UTF_8);
                final List<String> out = new ArrayList<>();
                for (final String line : text.split("\n"))
                {
                    if (!line.isEmpty())
                    {
                        out.add(line);
                    }
                }
                return out;
            }
            if (!entry.getName().startsWith("baton/"))
            {
                // The list is written first; past DL4J's first entry there is none (and no need to read 240 MB).
                return List.of();
            }
        }
        return List.of();
    }

    /** As {@link #read(InputStream)}, for a local file. */
    public static List<String> read(final Path zip)
    {
        try (InputStream in = Files.newInputStream(zip))
        {
            return read(in);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot read " + zip + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * Refuses data whose labels would not mean the model's outputs: class i of the data must be class i of the model.
     * With {@code sameSet} the data must have exactly the model's classes (retraining); without it a data set with
     * the first k of them is accepted (evaluating on a subset that kept the order). Nothing is checked when either
     * list is unknown (empty).
     *
     * @param what names the data in the message, e.g. "--data file:/x".
     * @throws IllegalArgumentException naming the first class that differs.
     */
    public static void requireMatch(final List<String> model, final List<String> data, final String what,
        final boolean sameSet)
    {
        if (model.isEmpty() || data.isEmpty())
        {
            return;
        }
        for (int i = 0; i < Math.min(model.size(), data.size()); i++)
        {
            if (!model.get(i).equals(data.get(i)))
            {
                throw new IllegalArgumentException(what + " has class " + i + " = " + data.get(i) + " where the model "
                    + "has " + model.get(i) + " (" + data.size() + " classes in the data, " + model.size()
                    + " in the model): its labels would be scored against the wrong outputs; prepare the data with "
                    + "the model's classes " + preview(model));
            }
        }
        if (data.size() > model.size() || (sameSet && data.size() != model.size()))
        {
            throw new IllegalArgumentException(what + " has " + data.size() + " classes, the model " + model.size()
                + " (" + preview(model) + "): " + (data.size() > model.size()
                ? "the model has no output for " + data.get(model.size())
                : "a retrain keeps the model's classes, and the data lacks " + model.get(data.size())));
        }
    }

    private static String preview(final List<String> classes)
    {
        return classes.size() <= 4 ? String.join(", ", classes)
            : String.join(", ", classes.subList(0, 3)) + ", ... " + classes.get(classes.size() - 1);
    }

    /** Keeps a {@link ZipOutputStream} from closing the caller's stream. */
    private static final class NonClosing extends java.io.FilterOutputStream
    {
        NonClosing(final OutputStream out)
        {
            super(out);
        }

        @Override
        public void write(final byte[] b, final int off, final int len) throws IOException
        {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException
        {
            flush();
        }
    }
}
