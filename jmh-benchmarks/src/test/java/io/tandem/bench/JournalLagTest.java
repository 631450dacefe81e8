package io.tandem.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The replication-lag harness runs end to end and counts what it measures (no timing is asserted). */
class JournalLagTest
{
    @Test
    void everyChangeSentWhileMeasuredIsAppliedAndTimed() throws Exception
    {
        final JournalLag.Result result = JournalLag.run(500, 0.5, 1);
        assertTrue(result.sent() > 300, result.report());
        assertEquals(result.sent(), result.applied(), result.report());
        assertEquals(result.applied(), result.lag().getTotalCount());
    }
}
