package io.baton.common.store;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalWritesTest
{
    @TempDir
    java.nio.file.Path dir;

    private static String read(final FileSystem fs, final Path file) throws IOException
    {
        try (FSDataInputStream in = fs.open(file))
        {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static void write(final OutputStream out, final String text) throws IOException
    {
        try (out)
        {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void shouldWriteLocalFileThatHadoopReadsBackMakingMissingParents() throws IOException
    {
        try (FileSystem fs = FileSystem.newInstance(dir.toUri(), new Configuration()))
        {
            final Path file = new Path(dir.toUri().toString(), "a/b/shard.bin");
            assertNotNull(LocalWrites.local(fs, file));
            write(LocalWrites.create(fs, file), "staged");
            assertEquals("staged", read(fs, file));
            assertTrue(fs.getFileStatus(file).isFile());
        }
    }

    @Test
    void shouldReplaceHadoopWrittenFileAndRemoveItsStaleChecksum() throws IOException
    {
        try (FileSystem fs = FileSystem.newInstance(dir.toUri(), new Configuration()))
        {
            assertTrue(fs instanceof LocalFileSystem);
            final Path file = new Path(dir.toUri().toString(), "manifest.json");
            try (FSDataOutputStream out = fs.create(file, true))
            {
                out.write("a longer first version".getBytes(StandardCharsets.UTF_8));
            }
            assertTrue(Files.exists(dir.resolve(".manifest.json.crc")), "Hadoop's local create writes a checksum");
            write(LocalWrites.create(fs, file), "second");
            assertFalse(Files.exists(dir.resolve(".manifest.json.crc")));
            // With the stale checksum left, Hadoop's reader would fail with a ChecksumException here.
            assertEquals("second", read(fs, file));
        }
    }

    @Test
    void shouldRefuseToCreateNewOverAnExistingLocalFileAsHadoopDoes() throws IOException
    {
        try (FileSystem fs = ((LocalFileSystem) FileSystem.newInstance(dir.toUri(), new Configuration())).getRaw())
        {
            final Path file = new Path(dir.toUri().toString(), "ckpt/part-params");
            try (FSDataOutputStream out = LocalWrites.createNew(fs, file, 1 << 16))
            {
                out.write("params".getBytes(StandardCharsets.UTF_8));
                out.hsync();
                assertEquals(6, Files.size(dir.resolve("ckpt/part-params")), "hsync leaves the bytes in the file");
            }
            assertThrows(FileAlreadyExistsException.class, () -> LocalWrites.createNew(fs, file, 1 << 16));
            assertEquals("params", read(fs, file));
        }
    }

    @Test
    void shouldMakeLocalDirectories() throws IOException
    {
        try (FileSystem fs = FileSystem.newInstance(dir.toUri(), new Configuration()))
        {
            final Path sub = new Path(dir.toUri().toString(), "x/y/train");
            assertTrue(LocalWrites.mkdirs(fs, sub));
            assertTrue(LocalWrites.mkdirs(fs, sub), "an existing directory is fine");
            assertTrue(fs.getFileStatus(sub).isDirectory());
        }
    }

    @Test
    void shouldLeaveOtherFileSystemsToTheirOwnCreate() throws IOException
    {
        final Configuration conf = new Configuration();
        conf.set("fs." + ObjectStoreLikeFileSystem.SCHEME + ".impl", ObjectStoreLikeFileSystem.class.getName());
        final Path file = new Path(ObjectStoreLikeFileSystem.SCHEME + "://" + dir.resolve("obj.bin"));
        try (FileSystem fs = FileSystem.newInstance(file.toUri(), conf))
        {
            assertNull(LocalWrites.local(fs, file), "a subclass of the local file system keeps its own create");
            write(LocalWrites.create(fs, file), "object");
            assertEquals("object", read(fs, file));
        }
    }
}
