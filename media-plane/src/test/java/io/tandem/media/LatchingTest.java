package io.tandem.media;

import static io.tandem.media.RelayTest.assertCounter;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.DatagramPacket;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.tandem.media.relay.LatchMode;
import io.tandem.media.session.CallRecord;
import io.tandem.media.session.MediaException;
import io.tandem.media.session.StreamSpec;

import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Endpoint learning over real UDP: Alice signals one address but sits behind a NAT and sends from another; Mallory
 * tries to inject media into the call and to pull Bob's media to herself (RTP Bleed).
 */
class LatchingTest
{
    private static final long WINDOW_MS = 300;

    @TempDir
    Path dir;

    private RtpPeer aliceSignalled;
    private RtpPeer aliceNat;
    private RtpPeer bob;
    private RtpPeer mallory;
    private MediaPlane plane;
    private final TestClock clock = new TestClock();
    private int aliceSendsTo;
    private int bobSendsTo;

    @BeforeEach
    void setUp() throws IOException
    {
        aliceSignalled = new RtpPeer(1);
        aliceNat = new RtpPeer(1);
        bob = new RtpPeer(2);
        mallory = new RtpPeer(3);
        for (final RtpPeer peer : List.of(aliceSignalled, aliceNat, bob, mallory))
        {
            peer.timeout(300);
        }
    }

    @AfterEach
    void tearDown()
    {
        CloseHelper.quietCloseAll(plane, aliceSignalled, aliceNat, bob, mallory);
    }

    private void start(final LatchMode mode, final boolean strictSource) throws MediaException
    {
        plane = new MediaPlane(TestContexts.media(dir)
            .portRange(24000, 24099)
            .nanoClock(clock)
            .learningWindowNs(TimeUnit.MILLISECONDS.toNanos(WINDOW_MS)));
        final StreamSpec alice = StreamSpec.of(aliceSignalled.address()).withLatch(mode).withStrictSource(strictSource);
        bobSendsTo = plane.registry().offer("c", "alice", List.of(alice)).get(0).localRtpPort();
        aliceSendsTo = plane.registry().answer("c", "alice", "bob",
            List.of(StreamSpec.of(bob.address()).withLatch(mode).withStrictSource(strictSource))).get(0).localRtpPort();
    }

    private static void assertReceives(final RtpPeer receiver, final byte[] expected) throws IOException
    {
        final DatagramPacket packet = receiver.receive();
        assertNotNull(packet, "nothing arrived");
        assertArrayEquals(expected, RtpPeer.data(packet));
    }

    /**
     * Issue 17, item 4: Bob only listens (recvonly, on hold), so his stream learns nothing in its window. A stranger
     * who then sends to Bob's port must not be latched as Bob: Alice's media keeps going to Bob's signalled
     * address, and the stranger's packets are dropped and counted.
     */
    @Test
    void aStrangerCannotHijackAListenOnlyPartyAfterTheWindow() throws Exception
    {
        start(LatchMode.HEURISTIC, true);
        aliceSignalled.send(aliceSignalled.rtp(1), aliceSendsTo);
        assertReceives(bob, aliceSignalled.rtp(1));
        clock.advance(plane, WINDOW_MS + 1); // Bob never sent: his window closes with nothing learned

        mallory.send(mallory.rtp(2), bobSendsTo);
        assertNull(aliceSignalled.receive(), "the stranger's packet must not reach Alice");
        aliceSignalled.send(aliceSignalled.rtp(3), aliceSendsTo);
        assertReceives(bob, aliceSignalled.rtp(3));
        assertNull(mallory.receive(), "Alice's media must not be pulled to the stranger");
        assertCounter(1, plane.counters().dropWrongSource, "the stranger's packet, counted");

        bob.send(bob.rtp(4), bobSendsTo); // Bob, from his signalled address, is still heard
        assertReceives(aliceSignalled, bob.rtp(4));
    }

    @Test
    void learnsTheNatSourceThenDropsAThirdParty() throws Exception
    {
        start(LatchMode.HEURISTIC, true);
        aliceNat.send(aliceNat.rtp(1), aliceSendsTo);
        assertReceives(bob, aliceNat.rtp(1));
        bob.send(bob.rtp(1), bobSendsTo);
        assertReceives(aliceNat, bob.rtp(1));
        assertNull(aliceSignalled.receive(), "media must follow the NAT, not the signalled address");

        clock.advance(plane, WINDOW_MS + 1);
        aliceNat.send(aliceNat.rtp(2), aliceSendsTo); // the window has closed: this locks onto the NAT address
        assertReceives(bob, aliceNat.rtp(2));
        assertTrue(plane.registry().endpointView(aliceSendsTo).latched());

        mallory.send(mallory.rtp(3), aliceSendsTo);
        assertNull(bob.receive(), "an injected packet must not reach Bob");
        assertCounter(1, plane.counters().dropWrongSource, "wrong-source drops");
        assertEquals(1, plane.registry().endpointView(aliceSendsTo).wrongSource());

        bob.send(bob.rtp(4), bobSendsTo);
        assertReceives(aliceNat, bob.rtp(4));
        assertNull(mallory.receive(), "Bob's media must not be pulled to the third party");
        aliceNat.send(aliceNat.rtp(5), aliceSendsTo);
        assertReceives(bob, aliceNat.rtp(5));
    }

    @Test
    void aRestartedRelaySendsToTheLatchedNatAddressBeforeThePartySpeaksAgain() throws Exception
    {
        start(LatchMode.HEURISTIC, true);
        aliceNat.send(aliceNat.rtp(1), aliceSendsTo);
        assertReceives(bob, aliceNat.rtp(1));
        clock.advance(plane, WINDOW_MS + 1);
        aliceNat.send(aliceNat.rtp(2), aliceSendsTo); // latches onto the NAT address; the housekeeper persists it
        assertReceives(bob, aliceNat.rtp(2));
        final CallRecord.StreamRecord persisted = awaitLearnedInStore();
        assertEquals(aliceNat.address(), persisted.rtpLearned());

        plane.close();
        plane = new MediaPlane(TestContexts.media(dir)
            .portRange(24000, 24099)
            .learningWindowNs(TimeUnit.SECONDS.toNanos(5))); // long enough that the checks below fall inside it
        // Alice now only listens (on hold, or a one-way announcement): Bob's media must still reach her NAT.
        bob.send(bob.rtp(3), bobSendsTo);
        assertReceives(aliceNat, bob.rtp(3));

        // A fresh learning window is open: should her NAT binding have moved, her new source takes over.
        mallory.send(mallory.rtp(4), aliceSendsTo);
        assertReceives(bob, mallory.rtp(4));
        bob.send(bob.rtp(5), bobSendsTo);
        assertReceives(mallory, bob.rtp(5));
        assertNull(aliceSignalled.receive(), "never to the signalled (private) address");
    }

    /** Alice's stream record (the one Alice sends to) once its learned RTP address reached the sessions file. */
    private CallRecord.StreamRecord awaitLearnedInStore() throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline)
        {
            final CallRecord record = plane.registry().storedRecord("c");
            for (final CallRecord.MonologueRecord monologue : record.monologues())
            {
                for (final CallRecord.StreamRecord stream : monologue.streams())
                {
                    if (stream.localRtpPort() == aliceSendsTo && stream.rtpLearned() != null)
                    {
                        return stream;
                    }
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the latched address never reached the sessions file");
    }

    @Test
    void heuristicLearningPrefersTheSignalledAddress() throws Exception
    {
        start(LatchMode.HEURISTIC, true);
        aliceSignalled.send(aliceSignalled.rtp(1), aliceSendsTo);
        assertReceives(bob, aliceSignalled.rtp(1));
        mallory.send(mallory.rtp(2), aliceSendsTo); // inside the window: relayed, but must not take over
        assertReceives(bob, mallory.rtp(2));
        bob.send(bob.rtp(3), bobSendsTo);
        assertReceives(aliceSignalled, bob.rtp(3));
        assertNull(mallory.receive());
    }

    @Test
    void immediateLatchingLocksOnTheFirstPacket() throws Exception
    {
        start(LatchMode.IMMEDIATE, true);
        aliceNat.send(aliceNat.rtp(1), aliceSendsTo);
        assertReceives(bob, aliceNat.rtp(1));
        mallory.send(mallory.rtp(2), aliceSendsTo);
        assertNull(bob.receive(), "after the first packet, another source is dropped");
        assertCounter(1, plane.counters().dropWrongSource, "wrong-source drops");
        bob.send(bob.rtp(3), bobSendsTo);
        assertReceives(aliceNat, bob.rtp(3));
    }

    @Test
    void withoutLearningOnlyTheSignalledAddressIsAccepted() throws Exception
    {
        start(LatchMode.OFF, true);
        aliceNat.send(aliceNat.rtp(1), aliceSendsTo);
        assertNull(bob.receive(), "learning is off: a source other than the signalled one is dropped");
        aliceSignalled.send(aliceSignalled.rtp(2), aliceSendsTo);
        assertReceives(bob, aliceSignalled.rtp(2));
        bob.send(bob.rtp(3), bobSendsTo);
        assertReceives(aliceSignalled, bob.rtp(3));
    }

    @Test
    void withoutStrictSourceOtherSourcesAreRelayedButDoNotTakeTheMedia() throws Exception
    {
        start(LatchMode.IMMEDIATE, false);
        aliceNat.send(aliceNat.rtp(1), aliceSendsTo);
        assertReceives(bob, aliceNat.rtp(1));
        mallory.send(mallory.rtp(2), aliceSendsTo);
        assertReceives(bob, mallory.rtp(2));
        bob.send(bob.rtp(3), bobSendsTo);
        assertReceives(aliceNat, bob.rtp(3));
        assertNull(mallory.receive());
    }
}
