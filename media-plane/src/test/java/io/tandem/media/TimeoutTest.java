package io.tandem.media;

import io.tandem.media.session.StreamSpec;

import static io.tandem.media.RelayTest.assertCounter;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Calls whose media stops end by themselves and give back their ports (the talk's "missing call terminations"). */
class TimeoutTest
{
    @TempDir
    Path dir;

    private MediaPlane plane;
    private final TestClock clock = new TestClock();
    private RtpPeer alice;
    private RtpPeer bob;

    @AfterEach
    void tearDown()
    {
        CloseHelper.quietCloseAll(plane, alice, bob);
    }

    private MediaContext context()
    {
        return TestContexts.media(dir)
            .nanoClock(clock)
            .portRange(25000, 25099);
    }

    private static void awaitNoCalls(final MediaPlane plane) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (plane.registry().callCount() > 0 && System.nanoTime() - deadline < 0)
        {
            Thread.sleep(20);
        }
        assertEquals(0, plane.registry().callCount());
    }

    @Test
    void aCallWithoutMediaEndsAndFreesItsPortsWhileALiveCallStays() throws Exception
    {
        plane = new MediaPlane(context().timeoutNs(TimeUnit.MILLISECONDS.toNanos(400)));
        alice = new RtpPeer(1);
        bob = new RtpPeer(2);
        final int capacity = plane.registry().ports().capacity();
        plane.registry().offer("silent", "a", List.of(StreamSpec.of(alice.address())));
        plane.registry().answer("silent", "a", "b", List.of(StreamSpec.of(bob.address())));
        plane.registry().offer("talking", "a", List.of(StreamSpec.of(alice.address())));
        final int aliceSendsTo =
            plane.registry().answer("talking", "a", "b", List.of(StreamSpec.of(bob.address()))).get(0).localRtpPort();
        assertEquals(capacity - 4, plane.registry().ports().available());

        // Only Alice talks, one way: a call with media in one direction is alive.
        for (int i = 0; i < 30; i++)
        {
            alice.send(alice.rtp(i), aliceSendsTo);
            assertNotNull(bob.receive());
            clock.advance(plane, 40);
        }
        plane.awaitHousekeepingPass();
        assertEquals(List.of("talking"), plane.registry().callIds(), "the silent call ended, the talking one did not");
        assertCounter(1, plane.counters().callsTimedOut, "calls ended by timeout");
        assertEquals(capacity - 2, plane.registry().ports().available());

        clock.advance(plane, 500); // Alice stops too
        awaitNoCalls(plane);
        assertEquals(capacity, plane.registry().ports().available(), "every port is back");
        assertEquals(0, plane.counters().portsInUse.get());
        assertEquals(0, plane.counters().sessions.get());
        plane.close();

        plane = new MediaPlane(context());
        assertEquals(0, plane.registry().callCount(), "timed-out calls are gone from the sessions file too");
    }

    @Test
    void aCallOnHoldEverywhereGetsTheSilentTimeoutInstead() throws Exception
    {
        plane = new MediaPlane(context().timeoutNs(TimeUnit.MILLISECONDS.toNanos(300))
            .silentTimeoutNs(TimeUnit.MILLISECONDS.toNanos(1500)));
        alice = new RtpPeer(1);
        bob = new RtpPeer(2);
        plane.registry().offer("held", "a", List.of(StreamSpec.of(alice.address()).withSends(false)));
        plane.registry().answer("held", "a", "b", List.of(StreamSpec.of(bob.address()).withSends(false)));
        clock.advance(plane, 900); // three times the normal timeout: a held call is not ended by it
        plane.awaitHousekeepingPass();
        assertEquals(List.of("held"), plane.registry().callIds());
        clock.advance(plane, 700); // past the silent timeout
        awaitNoCalls(plane);
        assertCounter(1, plane.counters().callsTimedOut, "calls ended by timeout"); // counted just after the delete
    }

    @Test
    void theFinalTimeoutEndsACallEvenWithMedia() throws Exception
    {
        plane = new MediaPlane(context().timeoutNs(0).finalTimeoutNs(TimeUnit.MILLISECONDS.toNanos(300)));
        alice = new RtpPeer(1);
        plane.registry().offer("long", "a", List.of(StreamSpec.of(alice.address())));
        assertEquals(1, plane.registry().callCount());
        clock.advance(plane, 301);
        awaitNoCalls(plane);
        assertCounter(1, plane.counters().callsFinalTimeout, "calls ended by final timeout");
        assertEquals(plane.registry().ports().capacity(), plane.registry().ports().available());
    }
}
