package io.baton.trainer.export;

import io.baton.trainer.model.ResidualBlock;
import io.baton.trainer.model.ShortcutKind;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ArrayNode;
import org.nd4j.shade.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The sidecar of an exported model ({@code baton/verify.json} inside the zip): a fixed, seeded input, the output
 * the training graph gave for it, the tolerance to compare with, and the residual blocks the model had. JSON
 * fields: {@code format} (1), {@code seed}, {@code input_shape} [N, C, H, W], {@code input} (base64 of
 * little-endian float32, C order), {@code output_shape} [N, K], {@code output} (numbers), {@code abs_tolerance},
 * {@code rel_tolerance}, {@code params}, {@code bn_layers}, {@code blocks} (name, stage, index, in/out channels,
 * stride, shortcut).
 *
 * @param seed          seed of the input.
 * @param inputShape    NCHW shape of the input.
 * @param input         input values, C order.
 * @param outputShape   shape of the output.
 * @param output        output values, C order.
 * @param absTolerance  allowed absolute difference per output value...
 * @param relTolerance  ...plus this fraction of the expected value's magnitude.
 * @param params        number of parameters of the model.
 * @param bnLayers      number of batch normalisation layers.
 * @param blocks        the residual blocks of the training graph.
 */
public record VerificationSample(long seed, long[] inputShape, float[] input, long[] outputShape, float[] output,
    double absTolerance, double relTolerance, long params, int bnLayers, List<ResidualBlock> blocks)
{
    /** Entry name of the sidecar inside the model zip. */
    public static final String ENTRY = "baton/verify.json";
    private static final int FORMAT = 1;
    private static final ObjectMapper JSON = new ObjectMapper();

    public String toJson()
    {
        final ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("seed", seed);
        longs(root.putArray("input_shape"), inputShape);
        root.put("input", encode(input));
        longs(root.putArray("output_shape"), outputShape);
        final ArrayNode out = root.putArray("output");
        for (final float v : output)
        {
            out.add(v);
        }
        root.put("abs_tolerance", absTolerance);
        root.put("rel_tolerance", relTolerance);
        root.put("params", params);
        root.put("bn_layers", bnLayers);
        final ArrayNode blockArray = root.putArray("blocks");
        for (final ResidualBlock b : blocks)
        {
            final ObjectNode o = blockArray.addObject();
            o.put("name", b.name());
            o.put("stage", b.stage());
            o.put("index", b.index());
            o.put("input_vertex", b.inputVertex());
            o.put("output_vertex", b.outputVertex());
            o.put("in_channels", b.inChannels());
            o.put("out_channels", b.outChannels());
            o.put("stride", b.stride());
            o.put("shortcut", b.shortcut().name());
        }
        try
        {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    public static VerificationSample fromJson(final String text)
    {
        final JsonNode root;
        try
        {
            root = JSON.readTree(text);
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("sidecar " + ENTRY + " is not valid JSON: " + ex.getMessage(), ex);
        }
        if (root.path("format").asInt() != FORMAT)
        {
            throw new IllegalArgumentException("sidecar " + ENTRY + " has format " + root.path("format")
                + ", this version reads format " + FORMAT);
        }
        final float[] output = new float[root.get("output").size()];
        for (int i = 0; i < output.length; i++)
        {
            output[i] = (float)root.get("output").get(i).asDouble();
        }
        final List<ResidualBlock> blocks = new ArrayList<>();
        for (final JsonNode b : root.get("blocks"))
        {
            blocks.add(new ResidualBlock(b.get("name").asText(), b.get("stage").asInt(), b.get("index").asInt(),
                b.get("input_vertex").asText(), b.get("output_vertex").asText(), b.get("in_channels").asLong(),
                b.get("out_channels").asLong(), b.get("stride").asInt(),
                ShortcutKind.valueOf(b.get("shortcut").asText())));
        }
        return new VerificationSample(root.get("seed").asLong(), longs(root.get("input_shape")),
            decode(root.get("input").asText()), longs(root.get("output_shape")), output,
            root.get("abs_tolerance").asDouble(), root.get("rel_tolerance").asDouble(), root.get("params").asLong(),
            root.get("bn_layers").asInt(), blocks);
    }

    private static void longs(final ArrayNode array, final long[] values)
    {
        for (final long v : values)
        {
            array.add(v);
        }
    }

    private static long[] longs(final JsonNode array)
    {
        final long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++)
        {
            out[i] = array.get(i).asLong();
        }
        return out;
    }

    private static String encode(final float[] values)
    {
        final ByteBuffer buffer = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buffer.asFloatBuffer().put(values);
        return Base64.getEncoder().encodeToString(buffer.array());
    }

    private static float[] decode(final String text)
    {
        final ByteBuffer buffer = ByteBuffer.wrap(Base64.getDecoder().decode(text)).order(ByteOrder.LITTLE_ENDIAN);
        final float[] out = new float[buffer.remaining() / Float.BYTES];
        buffer.asFloatBuffer().get(out);
        return out;
    }
}
