package io.baton.trainer.health;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.baton.trainer.run.RunJson;

import java.util.List;
import java.util.Map;

/**
 * The outcome of one health check: per block activation health, gradient norm per stage, and the warnings.
 * One JSON line per report ({@link #toJson()}): {@code {"step":N,"blocks":[{"block":"stage1_block1",
 * "max_activation":x,"dead_fraction":y}],"grad_norm":{"stem":a,"stage1":b,...,"head":c},"warnings":["..."]}};
 * NaN values are written as null.
 *
 * @param step           global step after which the check ran.
 * @param blocks         per block, in stage then block order.
 * @param stageGradNorms gradient L2 norm per group: {@code stem}, {@code stage<N>}, {@code head}.
 * @param warnings       thresholds exceeded, each naming the block or stage.
 */
public record HealthReport(long step, List<BlockHealth> blocks, Map<String, Double> stageGradNorms,
    List<String> warnings)
{
    public HealthReport
    {
        blocks = List.copyOf(blocks);
        stageGradNorms = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(stageGradNorms));
        warnings = List.copyOf(warnings);
    }

    public String toJson()
    {
        final ObjectNode root = RunJson.object();
        root.put("step", step);
        final ArrayNode blockArray = root.putArray("blocks");
        for (final BlockHealth b : blocks)
        {
            final ObjectNode o = blockArray.addObject();
            o.put("block", b.block());
            number(o, "max_activation", b.maxActivation());
            number(o, "dead_fraction", b.deadFraction());
        }
        final ObjectNode norms = root.putObject("grad_norm");
        stageGradNorms.forEach((stage, norm) -> number(norms, stage, norm));
        final ArrayNode warningArray = root.putArray("warnings");
        warnings.forEach(warningArray::add);
        return RunJson.line(root);
    }

    private static void number(final ObjectNode node, final String field, final double value)
    {
        RunJson.putFiniteOrNull(node, field, value);
    }
}
