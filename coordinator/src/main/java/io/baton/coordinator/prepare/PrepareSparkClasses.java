package io.baton.coordinator.prepare;

import java.util.List;

/**
 * The classes of {@code prepare} that travel through {@code spark.serializer} besides the public ones (a table's
 * first-pass entries and the shuffled (key, image) pairs of {@link FrameSource}), for Baton's Kryo registrator.
 * Stateless.
 */
public final class PrepareSparkClasses
{
    private PrepareSparkClasses()
    {
    }

    /** Classes to register, each written with Java serialisation inside Kryo's stream (they are records). */
    public static List<Class<?>> classes()
    {
        return List.of(FrameSource.Entry.class, FrameSource.Key.class, FrameSource.Image.class);
    }
}
