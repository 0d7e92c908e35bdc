package io.baton.coordinator.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One point of {@code debug.fault-points}: {@code PHASE[#N]@STEP[:RANK]}, the N-th call (from 1) of a phase in global
 * step STEP on replica RANK. Phases and where they are reached:
 * <ul>
 *   <li>{@code forward}: the training thread, the batch loaded, as the step's forward pass starts (N = 1).</li>
 *   <li>{@code syncbn}: the training thread, entering the N-th small all-reduce of the step (SyncBatchNorm
 *       statistics: forward layers first, then backward; the step's last one is its loss sum), before it sends.</li>
 *   <li>{@code gradient}: the training thread, entering the step's N-th gradient all-reduce, before it sends.</li>
 *   <li>{@code checkpoint}: rank 0's checkpoint writer thread, writing the checkpoint taken after STEP steps: the
 *       state's parts are written, its config part and manifest are not.</li>
 *   <li>{@code metrics}: rank 0's training thread, the step's collectives done, before its metrics line is
 *       appended.</li>
 * </ul>
 *
 * @param phase one of {@link #PHASES}.
 * @param n     the call within the step, from 1.
 * @param step  the global step (for checkpoint: the completed steps the checkpoint is of).
 * @param rank  the replica.
 */
public record FaultPointSpec(String phase, int n, long step, int rank)
{
    public static final List<String> PHASES = List.of("forward", "syncbn", "gradient", "checkpoint", "metrics");
    private static final Pattern SPEC = Pattern.compile("([a-z]+)(?:#(\\d+))?@(\\d+)(?::(\\d+))?");

    /** The points of a {@code debug.fault-points} value; null when it is malformed. */
    public static List<FaultPointSpec> parseAll(final String text)
    {
        final List<FaultPointSpec> out = new ArrayList<>();
        for (final String item : text.split(","))
        {
            if (item.isBlank())
            {
                continue;
            }
            final Matcher m = SPEC.matcher(item.strip().toLowerCase(Locale.ROOT));
            if (!m.matches() || !PHASES.contains(m.group(1)))
            {
                return null;
            }
            final int n = m.group(2) == null ? 1 : Integer.parseInt(m.group(2));
            final int rank = m.group(4) == null ? 0 : Integer.parseInt(m.group(4));
            if (n < 1)
            {
                return null;
            }
            out.add(new FaultPointSpec(m.group(1), n, Long.parseLong(m.group(3)), rank));
        }
        return out;
    }

    /** The marker's file name. */
    public String markerName()
    {
        return "fault-point-" + phase + "-" + step;
    }

    @Override
    public String toString()
    {
        return phase + "#" + n + "@" + step + ":" + rank;
    }
}
