package io.baton.coordinator.cli;

/**
 * The classes a cluster provides (Spark, Scala, Hadoop), checked before the CLI touches any of them: Baton's
 * application jars ({@code app/} of the distribution) leave them out on purpose, so the cluster's own versions are the
 * ones loaded. Run without them (plain {@code java -cp app/*}), the CLI says so in one line instead of a
 * {@code NoClassDefFoundError}. This class must not refer to any of them itself.
 *
 * <p>Thread-safe (stateless).
 */
final class ProvidedClasses
{
    private static final String[][] REQUIRED = {
        {"org.apache.spark.SparkConf", "Spark"},
        {"scala.Option", "Scala"},
        {"org.apache.hadoop.fs.FileSystem", "Hadoop's client"},
    };

    private ProvidedClasses()
    {
    }

    /** One line naming what is missing and how to run Baton instead, or null when everything is there. */
    static String missing()
    {
        for (final String[] required : REQUIRED)
        {
            try
            {
                Class.forName(required[0], false, ProvidedClasses.class.getClassLoader());
            }
            catch (final ClassNotFoundException | LinkageError ex)
            {
                return required[1] + " is not on the class path (" + required[0] + " not found): Baton's application "
                    + "jars run on a cluster's Spark (spark-submit --jars app/*.jar ... app/baton-coordinator-*.jar, "
                    + "see README 'Running on a cluster'); on this machine use deploy/bin/baton, whose lib/ has its own "
                    + "Spark";
            }
        }
        return null;
    }
}
