package io.baton.coordinator.cli;

import io.baton.common.config.BatonConfig;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import io.baton.coordinator.retrain.RetrainJob;
import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.export.ModelVerifier;
import io.baton.trainer.recipe.TrainingRecipe;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code baton export}, {@code verify-model} and {@code retrain --from} on models that live on HDFS (a one-datanode
 * MiniDFSCluster): what a scheduled pipeline on a cluster without shared local disks does.
 */
class HdfsModelFilesTest
{
    private static final List<String> SETTINGS = List.of("model.arch=resnet20", "data.image-size=16",
        "data.synthetic-samples=32", "data.synthetic-val-samples=32", "data.synthetic-classes=4",
        "data.loader-threads=1", "train.global-batch=16", "train.replicas=1", "optim.base-batch=16",
        "model.shortcut=b");

    @TempDir
    static Path base;

    @TempDir
    Path dir;

    private static MiniDFSCluster cluster;
    private static String root;

    @BeforeAll
    static void startCluster() throws Exception
    {
        NativeRuntime.configure();
        final Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.toAbsolutePath().toString());
        cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        cluster.waitActive();
        root = cluster.getFileSystem().getUri().toString();
    }

    @AfterAll
    static void stopCluster()
    {
        if (cluster != null)
        {
            cluster.shutdown(true);
        }
    }

    /** A run directory (model.zip and run.conf) written locally and copied to {@code hdfsRun}. */
    private Path runOnHdfs(final String hdfsRun) throws Exception
    {
        final BatonConfig config = new ConfigLoader(ConfigDef.discover()).load(null, SETTINGS);
        final Path run = Files.createDirectories(dir.resolve("run"));
        Files.writeString(run.resolve("run.conf"), config.render());
        ModelSerializer.writeModel(TrainingRecipe.replicaGraph(config, new int[] {16, 16, 3}, 4),
            run.resolve("model.zip").toFile(), false);
        final FileSystem fs = cluster.getFileSystem();
        fs.mkdirs(new org.apache.hadoop.fs.Path(hdfsRun));
        for (final String name : List.of("run.conf", "model.zip"))
        {
            fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(run.resolve(name).toUri()),
                new org.apache.hadoop.fs.Path(hdfsRun + "/" + name));
        }
        return run;
    }

    @Test
    void aRunOnHdfsExportsToHdfsVerifiesThereAndRetrainsFromThereAsFromLocalFiles() throws Exception
    {
        final String hdfsRun = root + "/runs/r1";
        final Path localRun = runOnHdfs(hdfsRun);
        final String exported = root + "/exports/model.zip";

        final CliRun export = CliRun.of("export", "--model", hdfsRun, "--output", exported);
        assertEquals(0, export.code(), export.out() + export.err());
        assertTrue(export.out().contains("input [2, 3, 16, 16]"), "the input size from the run.conf on HDFS: "
            + export.out());
        final FileSystem fs = cluster.getFileSystem();
        assertTrue(fs.isFile(new org.apache.hadoop.fs.Path(exported)), "the export is on HDFS");

        // The same export from the local copy of the run: the same verification sample inside.
        final Path localExport = dir.resolve("local-export.zip");
        assertEquals(0, CliRun.of("export", "--model", localRun.toString(), "--output", localExport.toString()).code());
        final Path fetched = dir.resolve("fetched.zip");
        fs.copyToLocalFile(new org.apache.hadoop.fs.Path(exported), new org.apache.hadoop.fs.Path(fetched.toUri()));
        assertArrayEquals(ModelVerifier.readSample(localExport).inputShape(),
            ModelVerifier.readSample(fetched).inputShape());
        assertArrayEquals(ModelVerifier.readSample(localExport).output(), ModelVerifier.readSample(fetched).output(),
            "exporting from HDFS to HDFS gives the model a local export gives: the same known output");

        final CliRun again = CliRun.of("export", "--model", hdfsRun, "--output", exported);
        assertEquals(BatonCli.EXIT_USAGE, again.code(), again.out() + again.err());
        assertTrue(again.err().contains("--output " + exported + " already exists; use --overwrite"), again.err());
        assertEquals(0, CliRun.of("export", "--model", hdfsRun, "--output", exported, "--overwrite").code());

        final CliRun verify = CliRun.of("verify-model", exported);
        assertEquals(0, verify.code(), verify.out() + verify.err());
        assertTrue(verify.out().startsWith("OK " + exported), verify.out());

        // Retrain from the zip on HDFS into a models directory on HDFS, twice: the first candidate becomes latest.zip,
        // the second (the same model, so as good) too; promotions.jsonl holds both decisions.
        final String models = root + "/models";
        final String[] retrain = {"retrain", "--from", exported, "--data", "null", "--models-dir", models,
            "--set", "retrain.epochs=0", "--set", "data.synthetic-classes=4", "--set", "data.synthetic-samples=32",
            "--set", "data.synthetic-val-samples=32", "--set", "train.global-batch=16"};
        final CliRun first = CliRun.of(retrain);
        assertEquals(0, first.code(), first.out() + first.err());
        assertTrue(first.out().contains("PROMOTED: candidate " + models + "/candidates/"), first.out());
        final CliRun second = CliRun.of(retrain);
        assertEquals(0, second.code(), second.out() + second.err());
        final org.apache.hadoop.fs.Path latest = new org.apache.hadoop.fs.Path(models + "/" + RetrainJob.LATEST);
        assertTrue(fs.isFile(latest), "latest.zip on HDFS");
        assertFalse(fs.exists(new org.apache.hadoop.fs.Path(models + "/." + RetrainJob.LATEST + ".tmp")));
        final Path latestLocal = dir.resolve("latest.zip");
        fs.copyToLocalFile(latest, new org.apache.hadoop.fs.Path(latestLocal.toUri()));
        final long[] nchw = ModelVerifier.readSample(latestLocal).inputShape();
        assertArrayEquals(new long[] {3, 16, 16}, new long[] {nchw[1], nchw[2], nchw[3]},
            "the exported model's 16x16 input, read from the zip on HDFS");
        final String promotions;
        try (java.io.InputStream in = fs.open(new org.apache.hadoop.fs.Path(models + "/" + RetrainJob.PROMOTIONS)))
        {
            promotions = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        assertEquals(2, promotions.lines().count(), promotions);
        assertTrue(promotions.lines().allMatch(l -> l.contains("\"promoted\":true") && l.contains(
            "\"from\":\"" + exported + "\"")), promotions);
        assertEquals(2, fs.listStatus(new org.apache.hadoop.fs.Path(models + "/candidates"),
            p -> p.getName().endsWith(".zip")).length, "both candidates kept on HDFS");
        assertFalse(fs.exists(new org.apache.hadoop.fs.Path(models + "/baton.lock")), "the lock is released");
    }

    @Test
    void missingModelsOnHdfsAreRefusedInOneLineNamingThem()
    {
        final String missing = root + "/nowhere/model.zip";
        final CliRun verify = CliRun.of("verify-model", missing);
        assertEquals(BatonCli.EXIT_USAGE, verify.code());
        assertEquals("baton verify-model: model " + missing + " does not exist", verify.err().strip());

        final CliRun export = CliRun.of("export", "--model", missing, "--output", dir.resolve("x.zip").toString());
        assertEquals(BatonCli.EXIT_USAGE, export.code());
        assertTrue(export.err().strip().startsWith("baton export: --model " + missing + ": no model file"),
            export.err());
        assertFalse(Files.exists(dir.resolve("x.zip")));

        final CliRun retrain = CliRun.of("retrain", "--from", missing, "--data", "null", "--models-dir",
            dir.resolve("m").toString());
        assertEquals(BatonCli.EXIT_USAGE, retrain.code());
        assertEquals("baton retrain: --from " + missing + " does not exist", retrain.err().strip());
        assertFalse(Files.exists(dir.resolve("m")));
    }
}
