package io.baton.coordinator.prepare;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class InputScannerTest
{
    @TempDir
    Path dir;

    private void file(final String path) throws Exception
    {
        final Path file = dir.resolve(path);
        Files.createDirectories(file.getParent());
        Files.write(file, new byte[] {1, 2, 3});
    }

    @Test
    void hiddenEntriesAreNeitherClassesNorImagesAndOtherFilesAreListedAsIgnored() throws Exception
    {
        file("train/n01/a.JPEG");
        file("train/n02/b.jpg");
        file("val/n01/c.JPEG");
        // Jupyter's checkpoints (empty in val/), macOS's folder metadata and resource forks.
        file("train/.ipynb_checkpoints/a-checkpoint.JPEG");
        Files.createDirectories(dir.resolve("val/.ipynb_checkpoints"));
        file("train/.DS_Store");
        file("train/n01/._a.JPEG");
        // Files that are there but not read: said, not silently dropped.
        file("train/n02/b.bmp");
        file("train/n01/notes.txt");
        final InputScanner scanner = new InputScanner(FileSystem.getLocal(new Configuration()).getRaw(), dir.toUri());

        final List<String> classes = scanner.classes();
        assertEquals(List.of("n01", "n02"), classes);
        final SplitPlan train = scanner.scan("train", classes, null, null);
        assertEquals(List.of(new InputFile("train/n01/a.JPEG", 0, 3), new InputFile("train/n02/b.jpg", 1, 3)),
            train.files());
        assertEquals(List.of("train/n01/notes.txt", "train/n02/b.bmp"), train.ignored());
        assertEquals(List.of(new InputFile("val/n01/c.JPEG", 0, 3)), scanner.scan("val", classes, null, null).files());
    }
}
