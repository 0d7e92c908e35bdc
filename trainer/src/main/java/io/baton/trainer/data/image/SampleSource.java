package io.baton.trainer.data.image;

import java.io.IOException;

/** Encoded images and labels by sample id, e.g. a prepared split. Implementations must be thread-safe. */
public interface SampleSource
{
    /** Samples; ids are 0 .. size-1. */
    long size();

    /** The label (class index) of a sample. */
    int label(long sampleId);

    /** The encoded image of a sample. */
    byte[] bytes(long sampleId) throws IOException;
}
