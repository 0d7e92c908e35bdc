package io.baton.coordinator.cli;

/**
 * How {@code baton} ends as the driver of {@code spark-submit --master yarn --deploy-mode cluster}, where its main
 * runs on a thread of Spark's ApplicationMaster. {@code System.exit} there ends the AM before it reports a final
 * status, and YARN records the application as FAILED ("Shutdown hook called before final status was reported") even
 * after a good run. So main returns on success and hands any other exit code to the AM, which reports FAILED with it
 * ("User application exited with status N"). Spark's classes are named only here, so that {@link BatonCli} still
 * loads (and says what is missing) without Spark on the class path.
 */
final class YarnClusterDriver
{
    private YarnClusterDriver()
    {
    }

    /**
     * Whether this JVM is a YARN cluster-mode driver (the AM sets the application's Spark configuration as system
     * properties before it calls main).
     */
    static boolean isThisJvm()
    {
        return "cluster".equals(System.getProperty("spark.submit.deployMode"))
            && "yarn".equals(System.getProperty("spark.master"));
    }

    /** Returns for 0; otherwise throws Spark's exception that makes the AM exit with {@code code}. */
    static void exit(final int code) throws Exception
    {
        if (code != 0)
        {
            throw new org.apache.spark.SparkUserAppException(code);
        }
    }
}
