package io.tandem.media;

import io.tandem.media.session.StreamSpec;

import static io.tandem.media.RelayTest.assertCounter;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, item 7: thousands of calls whose media stopped at the same moment (a PBX or a whole site gone) all time
 * out in one scan, while other calls relay on. Reporting each timed-out call walked every published endpoint, so
 * the scan was O(calls x endpoints) on the packet thread: at 4,000 calls, 64 million steps with the live calls'
 * packets waiting behind them. The issue asks for 10,000 calls; a call holds 4 sockets and a process may open
 * 20,000 files here, so this runs the most that fit with room for the test's own: 4,000.
 */
class MassTimeoutTest
{
    private static final int SILENT_CALLS = Integer.getInteger("tandem.mass-timeout.calls", 4_000);
    private static final int LIVE_CALLS = 8;

    @TempDir
    Path dir;

    private MediaPlane plane;
    private final TestClock clock = new TestClock();
    private final List<RtpPeer> peers = new ArrayList<>();

    @AfterEach
    void tearDown()
    {
        CloseHelper.quietCloseAll(peers);
        CloseHelper.quietClose(plane);
    }

    private RtpPeer peer(final int ssrc) throws Exception
    {
        final RtpPeer peer = new RtpPeer(ssrc);
        peers.add(peer);
        return peer;
    }

    @Test
    void thousandsOfCallsTimingOutAtOnceEndInOneScanWhileLiveCallsRelayOn() throws Exception
    {
        plane = new MediaPlane(TestContexts.media(dir)
            .nanoClock(clock)
            .portRange(20000, 37999)
            .maxCalls(SILENT_CALLS + LIVE_CALLS + 100)
            .timeoutNs(TimeUnit.SECONDS.toNanos(1)));
        final int capacity = plane.registry().ports().capacity();
        final RtpPeer silent = peer(0); // never sends: every silent call's parties point here
        for (int i = 0; i < SILENT_CALLS; i++)
        {
            final String callId = "silent-" + i + "@pbx-7.example.net";
            plane.registry().offer(callId, "a" + i, List.of(StreamSpec.of(silent.address())));
            plane.registry().answer(callId, "a" + i, "b" + i, List.of(StreamSpec.of(silent.address())));
        }
        final RtpPeer[] alice = new RtpPeer[LIVE_CALLS];
        final RtpPeer[] bob = new RtpPeer[LIVE_CALLS];
        final int[] aliceSendsTo = new int[LIVE_CALLS];
        for (int i = 0; i < LIVE_CALLS; i++)
        {
            alice[i] = peer(100 + i);
            bob[i] = peer(200 + i);
            final String callId = "live-" + i + "@sbc.example.net";
            plane.registry().offer(callId, "a", List.of(StreamSpec.of(alice[i].address())));
            aliceSendsTo[i] = plane.registry().answer(callId, "a", "b", List.of(StreamSpec.of(bob[i].address())))
                .get(0).localRtpPort();
        }
        assertEquals(SILENT_CALLS + LIVE_CALLS, plane.registry().callCount());
        assertEquals(capacity - 2 * (SILENT_CALLS + LIVE_CALLS), plane.registry().ports().available());

        // The live calls talk every 50 ms of the test's clock; the silent ones pass their timeout together.
        long[] whileEnding = new long[1024];
        int measured = 0;
        int sequence = 0;
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (plane.registry().callCount() > LIVE_CALLS && System.nanoTime() - deadline < 0)
        {
            sequence++;
            for (int i = 0; i < LIVE_CALLS; i++)
            {
                final long sentNs = System.nanoTime();
                alice[i].send(alice[i].rtp(sequence), aliceSendsTo[i]);
                final DatagramPacket packet = bob[i].receive();
                assertNotNull(packet, "live call " + i + " lost packet " + sequence);
                if (plane.registry().callCount() < SILENT_CALLS + LIVE_CALLS)
                {
                    if (measured == whileEnding.length)
                    {
                        whileEnding = Arrays.copyOf(whileEnding, measured * 2);
                    }
                    whileEnding[measured++] = System.nanoTime() - sentNs;
                }
            }
            clock.advance(plane, 50);
        }
        plane.awaitHousekeepingPass();

        assertEquals(LIVE_CALLS, plane.registry().callCount(), "every silent call ended, no live one did");
        assertCounter(SILENT_CALLS, plane.counters().callsTimedOut, "calls ended by timeout");
        assertEquals(capacity - 2 * LIVE_CALLS, plane.registry().ports().available(), "every silent call's port pairs");
        assertEquals(4 * LIVE_CALLS, plane.registry().publishedEndpoints(), "the relay holds only the live calls");
        assertEquals(LIVE_CALLS, plane.registry().storedCalls(), "the sessions file holds only the live calls");
        assertTrue(measured > 0, "the live calls relayed while the silent ones ended");
        Arrays.sort(whileEnding, 0, measured);
        System.out.printf("MassTimeoutTest: %d calls timed out at once; %d live packets meanwhile, relay latency "
                + "p50 %d us, max %d us%n", SILENT_CALLS, measured, whileEnding[measured / 2] / 1000,
            whileEnding[measured - 1] / 1000);
        // Before the scan marked its calls in one pass, the live packets here waited 213-378 ms behind it (7-13 ms
        // after): a bound far from both, so the test catches a quadratic scan without timing the relay finely.
        assertTrue(whileEnding[measured - 1] < TimeUnit.MILLISECONDS.toNanos(150),
            "a live packet waited " + whileEnding[measured - 1] / 1000 + " us behind the mass timeout");

        // and the live calls still relay after it, both ways
        alice[0].send(alice[0].rtp(++sequence), aliceSendsTo[0]);
        assertNotNull(bob[0].receive(), "a live call relays after the mass timeout");
    }

    /**
     * Issue 17, item 7: when the forwarding agent was behind, a delete gave up waiting for it after 5 s half-way: its
     * ports stayed allocated and its record stayed in the file. A delete now ends the call at once (record gone,
     * reply sent) and its ports come back when the agent has closed the sockets, however long that takes.
     */
    @Test
    void aDeleteWhileTheAgentIsHeldPastTheOldFiveSecondsLeavesNoPortOrRecord() throws Exception
    {
        plane = new MediaPlane(TestContexts.media(dir).portRange(25000, 25099));
        final int capacity = plane.registry().ports().capacity();
        final RtpPeer party = peer(1);
        for (int i = 0; i < 10; i++)
        {
            plane.registry().offer("held-" + i + "@edge.example.net", "a", List.of(StreamSpec.of(party.address())));
            plane.registry().answer("held-" + i + "@edge.example.net", "a", "b", List.of(StreamSpec.of(party.address())));
        }
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch held = new CountDownLatch(1);
        assertTrue(plane.agent().submit(agent ->
        {
            held.countDown();
            try
            {
                release.await();
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }));
        try
        {
            held.await();
            for (int i = 0; i < 10; i++)
            {
                assertTrue(plane.registry().delete("held-" + i + "@edge.example.net"));
            }
            assertEquals(0, plane.registry().callCount());
            assertEquals(0, plane.registry().storedCalls(), "the records leave the file with the delete");
            Thread.sleep(5_500); // past the old give-up
            plane.awaitHousekeepingPass();
            assertEquals(40, plane.counters().portsInUse.get(), "the sockets are still open, their ports held");
        }
        finally
        {
            release.countDown();
        }
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (plane.registry().ports().available() < capacity && System.nanoTime() - deadline < 0)
        {
            plane.awaitHousekeepingPass();
        }
        assertEquals(capacity, plane.registry().ports().available(), "every port back once the agent closed them");
        assertEquals(0, plane.registry().publishedEndpoints());
        assertEquals(0, plane.counters().portsInUse.get());
    }
}
