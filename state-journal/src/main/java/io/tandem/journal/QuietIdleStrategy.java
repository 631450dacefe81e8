package io.tandem.journal;

import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;

/**
 * The journal thread's idle strategy: it backs off from spinning to parks of at most {@code busyParkNs} while
 * records have moved within {@code quietAfterNs}, and parks up to {@code quietParkNs} once the journal has been
 * quiet that long. Each pass runs the embedded driver's duty cycle (tens of microseconds with the thread switch),
 * so an idle pair costs little, while a record after a quiet spell waits at most {@code quietParkNs} on a
 * mirror (the writer is unparked by the change itself).
 */
final class QuietIdleStrategy implements IdleStrategy
{
    private final IdleStrategy busy;
    private final IdleStrategy quiet;
    private final long quietAfterNs;
    private final NanoClock clock;
    private long lastWorkNs;

    QuietIdleStrategy(final long busyParkNs, final long quietParkNs, final long quietAfterNs)
    {
        this(new BackoffIdleStrategy(10, 10, 1_000, busyParkNs),
            new BackoffIdleStrategy(0, 0, Math.min(busyParkNs, quietParkNs), quietParkNs), quietAfterNs,
            SystemNanoClock.INSTANCE);
    }

    QuietIdleStrategy(final IdleStrategy busy, final IdleStrategy quiet, final long quietAfterNs, final NanoClock clock)
    {
        this.busy = busy;
        this.quiet = quiet;
        this.quietAfterNs = quietAfterNs;
        this.clock = clock;
        this.lastWorkNs = clock.nanoTime();
    }

    @Override
    public void idle(final int workCount)
    {
        if (workCount > 0)
        {
            lastWorkNs = clock.nanoTime();
            busy.reset();
            quiet.reset();
            return;
        }
        if (clock.nanoTime() - lastWorkNs < quietAfterNs)
        {
            busy.idle();
        }
        else
        {
            quiet.idle();
        }
    }

    @Override
    public void idle()
    {
        busy.idle();
    }

    @Override
    public void reset()
    {
        busy.reset();
        quiet.reset();
    }

    @Override
    public String alias()
    {
        return "quiet";
    }
}
