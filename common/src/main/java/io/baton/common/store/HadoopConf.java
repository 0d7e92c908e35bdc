package io.baton.common.store;

import org.apache.hadoop.conf.Configuration;

/**
 * Hadoop configurations without parsing Hadoop's default resources each time: {@code new Configuration()} reads and
 * parses {@code core-default.xml} and {@code core-site.xml} at its first use (also inside {@code FileSystem.get},
 * even when the file system is cached), ~15 ms each time on a 2-core VM, and a fit of a DL4J training master made a
 * few dozen on its driver and replicas. {@link #fresh()} copies one that was parsed once.
 *
 * <p>A copy holds what {@code new Configuration()} would: the same default resources (Hadoop reloads every
 * configuration, copies included, when a default resource is added later, e.g. HDFS's), the calling thread's
 * context class loader, as the constructor takes it, and nothing shared: a change to it reaches no other.
 *
 * <p>Thread-safe.
 */
public final class HadoopConf
{
    /** Parsed once, then only copied (never handed out, never changed). */
    private static final Configuration PARSED = new Configuration();

    private HadoopConf()
    {
    }

    /** A new configuration with Hadoop's defaults, as {@code new Configuration()}. */
    public static Configuration fresh()
    {
        // Loads the properties if they are not (the first call, or after Hadoop added a default resource).
        PARSED.size();
        final Configuration conf = new Configuration(PARSED);
        final ClassLoader context = Thread.currentThread().getContextClassLoader();
        if (context != null)
        {
            conf.setClassLoader(context);
        }
        return conf;
    }
}
