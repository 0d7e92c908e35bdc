package io.baton.coordinator.cli;

import io.baton.trainer.export.ModelClasses;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's first command, end to end on a smaller data set: generate, prepare, train 2 replicas, evaluate. */
@Tag("slow")
class DemoCommandTest
{
    @Test
    void demoGeneratesPreparesTrainsAndEvaluates(@TempDir final Path dir)
    {
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final int code = BatonCli.run(new String[] {"demo", "--out", dir.toString(), "--classes", "4",
            "--train-per-class", "32", "--val-per-class", "8", "--set", "train.epochs=3", "--set",
            "optim.decay-epochs=[2]", "--set", "train.global-batch=32", "--set", "optim.base-batch=32"},
            new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(0, code, out + "\n" + err);
        final String text = out.toString();
        assertTrue(text.contains("[5/5] baton report"), text);
        assertTrue(Files.exists(dir.resolve("run").resolve("report.html")), "report written");
        assertTrue(text.contains("demo finished; everything is under " + dir.toAbsolutePath()), text);
        assertTrue(Files.exists(dir.resolve("prepared").resolve("manifest.json")), "prepared manifest");
        assertTrue(Files.exists(dir.resolve("run").resolve("model.zip")), "trained model");
        assertEquals(List.of("n00000000", "n00000001", "n00000002", "n00000003"),
            ModelClasses.read(dir.resolve("run").resolve("model.zip")), "the model keeps its data's class names");
        final Matcher m = Pattern.compile("top1=([0-9.]+) top5=([0-9.]+) samples=(\\d+)").matcher(text);
        assertTrue(m.find(), text);
        assertEquals(32, Integer.parseInt(m.group(3)), "4 classes x 8 validation images");
    }
}
