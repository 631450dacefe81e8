package io.tandem.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.IdleStrategy;
import org.junit.jupiter.api.Test;

class QuietIdleStrategyTest
{
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    /** Counts idles and resets instead of parking. */
    private static final class Counting implements IdleStrategy
    {
        int idles;
        int resets;

        @Override
        public void idle(final int workCount)
        {
            idle();
        }

        @Override
        public void idle()
        {
            idles++;
        }

        @Override
        public void reset()
        {
            resets++;
        }
    }

    private long now;
    private final Counting busy = new Counting();
    private final Counting quiet = new Counting();
    private final QuietIdleStrategy strategy = new QuietIdleStrategy(busy, quiet, SECOND, () -> now);

    @Test
    void parksShortWhileRecordsMovedWithinTheQuietSpanThenLong()
    {
        strategy.idle(3); // records moved now
        strategy.idle(0);
        now += SECOND / 2;
        strategy.idle(0);
        assertEquals(2, busy.idles, "within a second of a record the short back-off serves");
        assertEquals(0, quiet.idles);

        now += SECOND;
        strategy.idle(0);
        strategy.idle(0);
        assertEquals(2, quiet.idles, "a quiet second later the long parks serve");

        final int resets = quiet.resets;
        strategy.idle(1); // a record again: back to short parks at once, both back-offs restart
        assertEquals(resets + 1, quiet.resets);
        strategy.idle(0);
        assertEquals(3, busy.idles);
    }
}
