package io.tandem.media;

import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.NanoClock;

/**
 * A clock a test moves by hand ({@link MediaContext#nanoClock}): the relay and the call registry read it, so a
 * learning window, a media timeout or a delayed delete passes the moment the test says, with no sleep.
 */
public final class TestClock implements NanoClock
{
    private final CachedNanoClock time = new CachedNanoClock();

    public TestClock()
    {
        time.update(TimeUnit.SECONDS.toNanos(1000)); // well away from 0, which some fields use for "none"
    }

    @Override
    public long nanoTime()
    {
        return time.nanoTime();
    }

    /**
     * Move time on by {@code ms}, then wait for two round trips through the forwarding agent: the pass that takes
     * the first has read the new time (and runs its timeout scan after it), the second begins after that pass
     * ended. From then on every pass, and every packet the agent handles, sees the new time.
     */
    public void advance(final MediaPlane plane, final long ms)
    {
        time.advance(TimeUnit.MILLISECONDS.toNanos(ms));
        plane.registry().publishedEndpoints();
        plane.registry().publishedEndpoints();
    }

    /** Move time on, then wait for a whole housekeeping pass after it (which ends what is due). */
    public void advanceAndHousekeep(final MediaPlane plane, final long ms) throws InterruptedException
    {
        advance(plane, ms);
        plane.awaitHousekeepingPass();
    }
}
