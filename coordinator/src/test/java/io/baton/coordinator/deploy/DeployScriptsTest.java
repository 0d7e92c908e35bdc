package io.baton.coordinator.deploy;

import io.baton.common.config.BatonConfig;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import io.baton.coordinator.OpsKeys;
import io.baton.trainer.TrainerKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The deploy/ scripts: GPU discovery output Spark accepts, shell syntax, and the retraining configuration. */
class DeployScriptsTest
{
    private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();

    private record Result(int code, String out)
    {
    }

    private static Result bash(final Map<String, String> env, final String... args) throws Exception
    {
        final ProcessBuilder builder = new ProcessBuilder(Stream.concat(Stream.of("bash"), Stream.of(args)).toList())
            .redirectErrorStream(true);
        builder.environment().remove("BATON_FAKE_GPUS");
        Stream.of("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")
            .forEach(builder.environment()::remove);
        builder.environment().putAll(env);
        final Process process = builder.start();
        final String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "script finished");
        return new Result(process.exitValue(), out);
    }

    @Test
    void gpuDiscoveryPrintsSparkResourceJsonFromTheOverride() throws Exception
    {
        final String script = ROOT.resolve("deploy/spark/gpu-discovery.sh").toString();
        assertEquals(new Result(0, "{\"name\":\"gpu\",\"addresses\":[\"0\",\"1\",\"3\"]}\n"),
            bash(Map.of("BATON_FAKE_GPUS", "0,1,3"), script));
        assertEquals(new Result(0, "{\"name\":\"gpu\",\"addresses\":[]}\n"), bash(Map.of("BATON_FAKE_GPUS", ""), script));
        final Result bad = bash(Map.of("BATON_FAKE_GPUS", "0,gpu1"), script);
        assertEquals(1, bad.code());
        assertTrue(bad.out().contains("GPU index 'gpu1' is not a non-negative integer"), bad.out());
    }

    @Test
    void everyDeployScriptParses() throws Exception
    {
        final List<Path> scripts;
        try (Stream<Path> files = Files.walk(ROOT.resolve("deploy")))
        {
            scripts = files.filter(p -> p.toString().endsWith(".sh") && !p.toString().contains("/target/")).toList();
        }
        assertTrue(scripts.size() >= 7, "templates present: " + scripts);
        for (final Path script : scripts)
        {
            final Result syntax = bash(Map.of(), "-n", script.toString());
            assertEquals(0, syntax.code(), script + ": " + syntax.out());
        }
        final Result usage = bash(Map.of("BATON_HOME", ROOT.resolve("deploy/no-such-dist").toString()),
            ROOT.resolve("deploy/spark/local-cluster.sh").toString(), "status");
        assertEquals(2, usage.code(), "a missing distribution is reported: " + usage.out());
    }

    @Test
    void sparkTemplatesExportTheNativeEnvironmentUnlessAlreadySet(@TempDir final Path dist) throws Exception
    {
        Files.createDirectories(dist.resolve("conf"));
        Files.createDirectories(dist.resolve("lib"));
        Files.copy(ROOT.resolve("conf/jvm.properties"), dist.resolve("conf/jvm.properties"));
        final String print = "source " + ROOT.resolve("deploy/spark/baton-env.sh") +
            " && echo \"$MALLOC_MMAP_THRESHOLD_ $MALLOC_TRIM_THRESHOLD_ $MALLOC_TOP_PAD_\"";
        final Map<String, String> env = new java.util.HashMap<>(Map.of("BATON_HOME", dist.toString(),
            "SPARK_SUBMIT", "true"));
        assertEquals(new Result(0, "134217728 4294967296 67108864\n"), bash(env, "-c", print));
        env.put("MALLOC_TOP_PAD_", "0");
        assertEquals(new Result(0, "134217728 4294967296 0\n"), bash(env, "-c", print), "a user's value wins");
    }

    @Test
    void yarnClusterModeShipsTheLocalJobConfigurationAndGivesTheDriverBatonsFlagsAndOneAttempt(
        @TempDir final Path dist) throws Exception
    {
        Files.createDirectories(dist.resolve("conf"));
        Files.createDirectories(dist.resolve("lib"));
        Files.createDirectories(dist.resolve("app"));
        Files.copy(ROOT.resolve("conf/jvm.properties"), dist.resolve("conf/jvm.properties"));
        Files.writeString(dist.resolve("app/baton-coordinator-0.jar"), "");
        final Path job = Files.writeString(dist.resolve("job.conf"), "train.epochs = 1\n");
        final Path fake = Files.writeString(dist.resolve("spark-submit"), "#!/usr/bin/env bash\nprintf '%s\\n' \"$@\"\n");
        assertTrue(fake.toFile().setExecutable(true));
        final Map<String, String> env = new java.util.HashMap<>(Map.of("BATON_HOME", dist.toString(),
            "SPARK_SUBMIT", fake.toString(), "DEPLOY_MODE", "cluster", "REPLICAS", "3"));
        final Result cluster = bash(env, ROOT.resolve("deploy/spark/submit-yarn.sh").toString(), "train", "-c",
            job.toString(), "--set", "run.dir=hdfs:///runs/r1");
        assertEquals(0, cluster.code(), cluster.out());
        final List<String> args = cluster.out().lines().toList();
        assertEquals(job.toString(), args.get(args.indexOf("--files") + 1), cluster.out());
        assertEquals("job.conf", args.get(args.indexOf("-c") + 1), "read in the driver's container: " + cluster.out());
        assertTrue(args.contains("spark.yarn.maxAppAttempts=1"), cluster.out());
        assertTrue(args.stream().anyMatch(a -> a.startsWith("spark.driver.extraJavaOptions=") && a.contains(
            "--add-opens")), cluster.out());
        assertEquals("cluster", args.get(args.indexOf("--deploy-mode") + 1));

        env.put("DEPLOY_MODE", "client");
        final Result client = bash(env, ROOT.resolve("deploy/spark/submit-yarn.sh").toString(), "train", "-c",
            job.toString());
        final List<String> clientArgs = client.out().lines().toList();
        assertEquals(job.toString(), clientArgs.get(clientArgs.indexOf("-c") + 1), client.out());
        assertTrue(!clientArgs.contains("--files"), client.out());
        assertTrue(clientArgs.stream().anyMatch(a -> a.startsWith("spark.yarn.am.extraJavaOptions=")), client.out());
    }

    @Test
    void kubernetesClusterModeRunsTheImagesJarsAndUploadsTheLocalJobConfiguration(@TempDir final Path dist)
        throws Exception
    {
        Files.createDirectories(dist.resolve("conf"));
        Files.createDirectories(dist.resolve("lib"));
        Files.createDirectories(dist.resolve("app"));
        Files.copy(ROOT.resolve("conf/jvm.properties"), dist.resolve("conf/jvm.properties"));
        Files.writeString(dist.resolve("app/baton-coordinator-0.jar"), "");
        Files.writeString(dist.resolve("app/baton-common-0.jar"), "");
        Files.writeString(dist.resolve("app/aeron-client-1.jar"), "");
        final Path job = Files.writeString(dist.resolve("job.conf"), "train.epochs = 1\n");
        final Path fake = Files.writeString(dist.resolve("spark-submit"), "#!/usr/bin/env bash\nprintf '%s\\n' \"$@\"\n");
        assertTrue(fake.toFile().setExecutable(true));
        final String script = ROOT.resolve("deploy/spark/submit-k8s.sh").toString();
        final Map<String, String> env = new java.util.HashMap<>(Map.of("BATON_HOME", dist.toString(),
            "SPARK_SUBMIT", fake.toString(), "K8S_MASTER", "k8s://https://api:6443", "IMAGE", "registry/baton:0.1",
            "REPLICAS", "3"));

        final Result refused = bash(env, script, "train", "-c", job.toString());
        assertEquals(2, refused.code(), "a local -c without UPLOAD_DIR: " + refused.out());
        assertTrue(refused.out().contains("set UPLOAD_DIR"), refused.out());

        env.put("UPLOAD_DIR", "s3a://bucket/uploads");
        final Result cluster = bash(env, script, "train", "-c", job.toString(), "--set", "run.dir=s3a://bucket/r1");
        assertEquals(0, cluster.code(), cluster.out());
        final List<String> args = cluster.out().lines().toList();
        assertEquals("cluster", args.get(args.indexOf("--deploy-mode") + 1));
        assertEquals("local:///opt/baton/app/aeron-client-1.jar,local:///opt/baton/app/baton-common-0.jar",
            args.get(args.indexOf("--jars") + 1), "the image's jars, named from app/: " + cluster.out());
        assertTrue(args.contains("local:///opt/baton/app/baton-coordinator-0.jar"), cluster.out());
        assertEquals(job.toString(), args.get(args.indexOf("--files") + 1), cluster.out());
        assertEquals("job.conf", args.get(args.indexOf("-c") + 1), "read in the driver's pod: " + cluster.out());
        assertTrue(args.contains("spark.kubernetes.file.upload.path=s3a://bucket/uploads"), cluster.out());
        assertTrue(args.contains("spark.kubernetes.container.image=registry/baton:0.1"), cluster.out());
        assertTrue(args.contains("spark.executor.instances=3"), cluster.out());
        assertTrue(args.contains("spark.dynamicAllocation.enabled=false"), cluster.out());
        assertTrue(args.contains("spark.kubernetes.driverEnv.MALLOC_TOP_PAD_=67108864"), cluster.out());
        assertTrue(args.stream().anyMatch(a -> a.startsWith("spark.driver.extraJavaOptions=") && a.contains(
            "--add-opens")), cluster.out());
        assertTrue(args.stream().noneMatch(a -> a.contains("extraClassPath")), "no class path of Baton's: "
            + cluster.out());
        assertTrue(args.stream().noneMatch(a -> a.startsWith("spark.executor.extraJavaOptions=")),
            "the executors' options stay the user's; Baton's driver appends its flags: " + cluster.out());
    }

    @Test
    void retrainConfigurationLoadsWithItsShortSchedule()
    {
        final BatonConfig config = new ConfigLoader(ConfigDef.discover()).load(ROOT.resolve("conf/retrain.conf"),
            List.of());
        assertEquals(2, config.get(OpsKeys.RETRAIN_EPOCHS));
        assertEquals(20, config.get(OpsKeys.RETRAIN_RECALIBRATE_BN_BATCHES));
        assertEquals("resnet20", config.get(TrainerKeys.MODEL_ARCH), "includes the demo job's model");
    }
}
