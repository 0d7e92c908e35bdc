package io.baton.coordinator.train;

import io.baton.common.config.BatonConfig;
import io.baton.coordinator.CoordinatorKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code debug.fault-points} of one replica, for the chaos runner ({@code bench/chaos}): when the replica reaches
 * a point it claims the point's marker in {@code debug.fault-point-dir} (once per directory, so a relaunched stage
 * passes it without stopping), writes into it this JVM's pid, rank and what it is doing, and pauses for
 * {@code debug.fault-point-pause}. The runner watches for the marker and injects its fault (kill, stop, full disk,
 * driver kill) while this replica is paused there, so the fault lands in that phase; the peers are then blocked in
 * the same collective or the next one.
 *
 * <p>Threading: {@link #step(long)} and {@link #reachInStep} on the training thread; {@link #reach} from any thread.
 */
public final class FaultPoints
{
    /** No fault points: every call returns at once. */
    public static final FaultPoints NONE = new FaultPoints(List.of(), null, 0, 0);
    private static final Logger LOG = LoggerFactory.getLogger(FaultPoints.class);

    private final List<FaultPointSpec> points;
    private final Path dir;
    private final long pauseMs;
    private final int rank;
    private final Map<String, Integer> callsInStep = new HashMap<>();
    private volatile long step = -1;

    private FaultPoints(final List<FaultPointSpec> points, final Path dir, final long pauseMs, final int rank)
    {
        this.points = points;
        this.dir = dir;
        this.pauseMs = pauseMs;
        this.rank = rank;
    }

    /** The points of {@code config} for replica {@code rank}; {@link #NONE} when there are none for it. */
    public static FaultPoints from(final BatonConfig config, final int rank)
    {
        final String dir = config.get(CoordinatorKeys.DEBUG_FAULT_POINT_DIR);
        final List<FaultPointSpec> all = FaultPointSpec.parseAll(config.get(CoordinatorKeys.DEBUG_FAULT_POINTS));
        final List<FaultPointSpec> mine = all == null ? List.of() : all.stream().filter(p -> p.rank() == rank).toList();
        if (dir == null || mine.isEmpty())
        {
            return NONE;
        }
        LOG.warn("debug.fault-points armed on replica {}: {} (markers in {})", rank, mine, dir);
        return new FaultPoints(mine, Path.of(dir), config.get(CoordinatorKeys.DEBUG_FAULT_POINT_PAUSE).toMillis(),
            rank);
    }

    /** The training thread starts global step {@code globalStep}: calls are counted from 1 again. */
    public void step(final long globalStep)
    {
        if (points.isEmpty())
        {
            return;
        }
        step = globalStep;
        callsInStep.clear();
    }

    /** The training thread makes its next call of {@code phase} in the current step. */
    public void reachInStep(final String phase, final String detail)
    {
        if (points.isEmpty())
        {
            return;
        }
        final int n = callsInStep.merge(phase, 1, Integer::sum);
        reach(phase, step, n, detail);
    }

    /** Reaches call {@code n} of {@code phase} in {@code globalStep}: pauses there if it is an unclaimed point. */
    public void reach(final String phase, final long globalStep, final int n, final String detail)
    {
        for (final FaultPointSpec point : points)
        {
            if (point.phase().equals(phase) && point.step() == globalStep && point.n() == n && claim(point, detail))
            {
                LOG.warn("fault point {} reached ({}): pausing {} ms", point, detail, pauseMs);
                try
                {
                    Thread.sleep(pauseMs);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    private boolean claim(final FaultPointSpec point, final String detail)
    {
        final Path marker = dir.resolve(point.markerName());
        try
        {
            Files.createFile(dir.resolve(".claim-" + point.markerName()));
            // The marker appears whole (written aside, then renamed), so the runner never reads half of it.
            final Path aside = dir.resolve(".tmp-" + point.markerName());
            Files.writeString(aside, "pid=" + ProcessHandle.current().pid() + "\nrank=" + rank + "\npoint=" + point
                + "\nthread=" + Thread.currentThread().getName() + "\ndetail=" + detail + "\nwallMs="
                + System.currentTimeMillis() + "\n", StandardCharsets.UTF_8);
            Files.move(aside, marker, StandardCopyOption.ATOMIC_MOVE);
            return true;
        }
        catch (final FileAlreadyExistsException ex)
        {
            return false;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("debug.fault-points: cannot write the marker " + marker, ex);
        }
    }
}
