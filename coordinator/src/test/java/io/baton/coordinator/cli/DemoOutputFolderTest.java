package io.baton.coordinator.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where {@code baton demo --out} may write: the demo deletes and rewrites its folders there. */
class DemoOutputFolderTest
{
    @TempDir
    Path dir;

    private int demo(final Path out, final StringWriter err)
    {
        return BatonCli.run(new String[] {"demo", "--out", out.toString()}, new PrintWriter(new StringWriter(), true),
            new PrintWriter(err, true));
    }

    @Test
    void aFolderHoldingFilesTheDemoDidNotWriteIsRefusedAndLeftAsItWas() throws Exception
    {
        Files.writeString(dir.resolve("thesis.tex"), "\\documentclass{article}");
        Files.createDirectories(dir.resolve("images"));
        Files.writeString(dir.resolve("images/cat.jpg"), "not generated");
        final StringWriter err = new StringWriter();
        assertEquals(BatonCli.EXIT_USAGE, demo(dir, err), err.toString());
        assertEquals("baton demo: --out " + dir + " holds files the demo did not write (thesis.tex), and the demo "
            + "replaces its images/, prepared/ and run/ there; choose a new or empty folder\n", err.toString());
        assertEquals("not generated", Files.readString(dir.resolve("images/cat.jpg")));
        assertFalse(Files.exists(dir.resolve(DemoCommand.MARKER)));
        assertFalse(Files.exists(dir.resolve("demo.conf")));
    }

    @Test
    void aFileIsRefused() throws Exception
    {
        final Path file = Files.writeString(dir.resolve("notes.txt"), "mine");
        final StringWriter err = new StringWriter();
        assertEquals(BatonCli.EXIT_USAGE, demo(file, err), err.toString());
        assertEquals("baton demo: --out " + file + " is a file, not a folder\n", err.toString());
        assertEquals("mine", Files.readString(file));
    }

    @Test
    void aNewFolderAnEmptyOneAndAnEarlierDemosAreTheDemos() throws Exception
    {
        DemoCommand.claim(dir.resolve("new"));
        assertTrue(Files.exists(dir.resolve("new").resolve(DemoCommand.MARKER)));
        final Path empty = Files.createDirectories(dir.resolve("empty"));
        DemoCommand.claim(empty);
        assertTrue(Files.exists(empty.resolve(DemoCommand.MARKER)));
        // Written by a demo from before the marker existed.
        final Path earlier = Files.createDirectories(dir.resolve("earlier"));
        Files.createDirectories(earlier.resolve("run"));
        Files.writeString(earlier.resolve("demo.conf"), "model.arch = resnet20\n");
        DemoCommand.claim(earlier);
        assertTrue(Files.exists(earlier.resolve(DemoCommand.MARKER)));
        // A claimed folder stays the demo's even with files added since.
        Files.writeString(earlier.resolve("report-notes.txt"), "mine");
        DemoCommand.claim(earlier);
    }
}
