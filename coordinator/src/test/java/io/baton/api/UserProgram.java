package io.baton.api;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

import java.nio.file.Path;

/**
 * A user's program, as the README shows it: its own SparkSession on a cluster, its own DL4J graph (not in Baton's
 * zoo), trained through the library API; afterwards the session is still the user's to use. Run in its own driver
 * JVM by {@link UserProgramTest}. Prints one line per result for the test to read.
 *
 * <p>Arguments: master URL, run directory.
 */
public final class UserProgram
{
    private UserProgram()
    {
    }

    public static void main(final String[] args)
    {
        final SparkSession spark = SparkSession.builder()
            .config(Baton.sparkConf(new SparkConf().setMaster(args[0]).setAppName("user-program")))
            .getOrCreate();
        try
        {
            final TrainResult result = Baton.on(spark).train(Model.of(UserCnn.configuration(16, 4)),
                LibraryApiTest.settings(Path.of(args[1]), "collective.timeout=60s", "cluster.slot-wait=90s"));
            System.out.println("RESULT steps=" + result.steps() + " samples=" + result.valSamples() + " top1="
                + result.valTop1() + " checksum=" + Long.toHexString(result.paramsChecksum()));
            // The session is still the user's: a SQL query on its executors.
            final long rows = spark.range(0, 1000).filter("id % 10 = 0").count();
            System.out.println("SESSION rows=" + rows + " stopped=" + spark.sparkContext().isStopped());
        }
        finally
        {
            spark.stop();
        }
    }
}
