package io.tandem.media.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import io.tandem.media.MediaPlane;
import io.tandem.media.TestContexts;

import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A standby runs media through its own relay at start (the JIT compiles the path before a failover needs it; what
 * that gains is in HotStandbyFailoverTest's report). It must leave nothing behind: no socket with the relay, nothing
 * on the counters an operator reads.
 */
class RelayWarmUpTest
{
    @TempDir
    Path dir;

    private MediaPlane plane;

    @AfterEach
    void tearDown()
    {
        CloseHelper.quietClose(plane);
    }

    @Test
    void aStandbyWarmsItsRelayAndLeavesNoTrace() throws Exception
    {
        plane = new MediaPlane(TestContexts.media(dir).startActive(false));
        assertEquals(0, plane.registry().publishedEndpoints(), "the warm-up's sockets are gone from the relay");
        assertEquals(0, plane.counters().rxPackets.get());
        assertEquals(0, plane.counters().rxBytes.get());
        assertEquals(0, plane.counters().txPackets.get());
        assertEquals(0, plane.counters().txBytes.get());
        assertEquals(0, plane.counters().portsInUse.get());
    }

    @Test
    void itRelaysEveryPacketOfItsCallsAndTakesThemOffTheCounters() throws Exception
    {
        plane = new MediaPlane(TestContexts.media(dir));
        final long relayed = new RelayWarmUp(plane.agent(), plane.counters()).run(20, 5, TimeUnit.SECONDS.toNanos(10));
        assertEquals(20 * 5 * 16, relayed, "every packet of 20 calls, 5 rounds of 8 each way");
        assertEquals(0, plane.registry().publishedEndpoints());
        assertEquals(0, plane.counters().rxPackets.get());
        assertEquals(0, plane.counters().txBytes.get());
    }
}
