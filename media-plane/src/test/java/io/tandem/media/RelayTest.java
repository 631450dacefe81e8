package io.tandem.media;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

import io.tandem.media.codec.G711;
import io.tandem.media.relay.LinuxNet;
import io.tandem.media.stats.MediaCounters;
import io.tandem.media.session.MediaException;
import io.tandem.media.session.MediaStream;
import io.tandem.media.session.StreamSpec;

import org.agrona.CloseHelper;
import org.agrona.concurrent.status.AtomicCounter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One call relayed over real UDP on loopback: both directions, restart on the same sessions file, bad packets. */
class RelayTest
{
    private static final int PORT_MIN = 21000;
    private static final int PORT_MAX = 21099;

    @TempDir
    Path dir;

    private RtpPeer alice;
    private RtpPeer bob;
    private MediaPlane plane;

    @BeforeEach
    void setUp() throws IOException
    {
        alice = new RtpPeer(0x11111111);
        bob = new RtpPeer(0x22222222);
    }

    @AfterEach
    void tearDown()
    {
        CloseHelper.quietCloseAll(plane, alice, bob);
    }

    private MediaContext context(final int portMin, final int portMax)
    {
        return TestContexts.media(dir)
            .bindAddress("127.0.0.1")
            .portRange(portMin, portMax)
            .idle("backoff");
    }

    /** Alice offers, Bob answers. @return {port Alice sends to, port Bob sends to}. */
    private int[] setUpCall(final String callId) throws MediaException
    {
        final List<MediaStream> towardsBob = plane.registry().offer(callId, "alice-tag", List.of(StreamSpec.of(alice.address())));
        final List<MediaStream> towardsAlice =
            plane.registry().answer(callId, "alice-tag", "bob-tag", List.of(StreamSpec.of(bob.address())));
        return new int[] {towardsAlice.get(0).localRtpPort(), towardsBob.get(0).localRtpPort()};
    }

    /** One packet each way; asserts it arrives unchanged and comes from Tandem's port for the receiver's leg. */
    private void exchange(final int sequence, final int aliceSendsTo, final int bobSendsTo) throws IOException
    {
        final byte[] fromAlice = alice.rtp(sequence);
        alice.send(fromAlice, aliceSendsTo);
        final DatagramPacket atBob = bob.receive();
        assertNotNull(atBob, "packet " + sequence + " from Alice never reached Bob");
        assertArrayEquals(fromAlice, RtpPeer.data(atBob));
        assertEquals(bobSendsTo, atBob.getPort(), "Bob must see media from the port he sends to (symmetric RTP)");

        final byte[] fromBob = bob.rtp(sequence);
        bob.send(fromBob, bobSendsTo);
        final DatagramPacket atAlice = alice.receive();
        assertNotNull(atAlice, "packet " + sequence + " from Bob never reached Alice");
        assertArrayEquals(fromBob, RtpPeer.data(atAlice));
        assertEquals(aliceSendsTo, atAlice.getPort(), "Alice must see media from the port she sends to");
    }

    /** The agent counts a packet just after sending it, so the receiver may be a moment ahead of the counter. */
    static void assertCounter(final long expected, final AtomicCounter counter, final String what)
        throws InterruptedException
    {
        final long deadline = System.nanoTime() + 2_000_000_000L;
        while (counter.get() != expected && System.nanoTime() - deadline < 0)
        {
            Thread.sleep(1);
        }
        assertEquals(expected, counter.get(), what);
    }

    @Test
    void relaysAThousandPacketsEachWay() throws Exception
    {
        plane = new MediaPlane(context(PORT_MIN, PORT_MAX));
        final int[] ports = setUpCall("call-1");
        assertTrue(ports[0] != ports[1]);
        for (int sequence = 0; sequence < 1000; sequence++)
        {
            exchange(sequence, ports[0], ports[1]);
        }
        assertCounter(2000, plane.counters().txPackets, "packets relayed");
        assertEquals(0, plane.counters().dropWrongSource.get());
    }

    /**
     * The TOS byte of the next datagram on {@code channel}, as the kernel reports it to a receiver that asked
     * (IP_RECVTOS): what the network sees on the relayed packet, not what a socket option says. -1 if none came.
     */
    private static int receivedTos(final java.nio.channels.DatagramChannel channel) throws Exception
    {
        LinuxNet.setsockopt(channel, 0, 13, 1); // SOL_IP, IP_RECVTOS
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined())
        {
            final java.lang.foreign.MemorySegment vector = arena.allocate(LinuxNet.MMSGHDR_SIZE, 8);
            final java.lang.foreign.MemorySegment iov = arena.allocate(LinuxNet.IOVEC_SIZE, 8);
            final java.lang.foreign.MemorySegment data = arena.allocate(2048, 8);
            final java.lang.foreign.MemorySegment control = arena.allocate(64, 8);
            iov.set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, data.address());
            iov.set(java.lang.foreign.ValueLayout.JAVA_LONG, 8, 2048);
            vector.set(java.lang.foreign.ValueLayout.JAVA_LONG, LinuxNet.MSG_IOV, iov.address());
            vector.set(java.lang.foreign.ValueLayout.JAVA_LONG, LinuxNet.MSG_IOVLEN, 1);
            vector.set(java.lang.foreign.ValueLayout.JAVA_LONG, LinuxNet.MSG_CONTROL, control.address());
            vector.set(java.lang.foreign.ValueLayout.JAVA_LONG, LinuxNet.MSG_CONTROLLEN, 64);
            final long deadline = System.nanoTime() + 2_000_000_000L;
            while (System.nanoTime() < deadline)
            {
                if (LinuxNet.recvmmsg(LinuxNet.fd(channel), vector, 1) == 1)
                {
                    // struct cmsghdr: size_t len, int level, int type, then the data (one byte for IP_TOS)
                    if (control.get(java.lang.foreign.ValueLayout.JAVA_INT, 8) == 0 &&
                        control.get(java.lang.foreign.ValueLayout.JAVA_INT, 12) == 1)
                    {
                        return control.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 16) & 0xff;
                    }
                    return -1;
                }
                Thread.sleep(1);
            }
            return -1;
        }
    }

    /** Send Alice one RTP packet through a fresh call, from a peer whose socket reports the TOS it receives. */
    private int tosOfRelayedPacket(final String callId) throws Exception
    {
        try (java.nio.channels.DatagramChannel receiver = java.nio.channels.DatagramChannel.open())
        {
            receiver.bind(new InetSocketAddress(RtpPeer.LOOPBACK, 0));
            final List<MediaStream> towardsReceiver = plane.registry().offer(callId, "sender",
                List.of(StreamSpec.of(alice.address())));
            final int senderSendsTo = plane.registry().answer(callId, "sender", "receiver",
                List.of(StreamSpec.of((InetSocketAddress)receiver.getLocalAddress()))).get(0).localRtpPort();
            assertTrue(towardsReceiver.get(0).localRtpPort() > 0);
            alice.send(alice.rtp(1), senderSendsTo);
            return receivedTos(receiver);
        }
    }

    @Test
    void relayedMediaIsMarkedExpeditedForwardingUnlessToldOtherwise() throws Exception
    {
        plane = new MediaPlane(context(PORT_MIN, PORT_MAX));
        assertEquals(184, tosOfRelayedPacket("call-ef"), "DSCP EF on the wire");
        plane.close();
        plane = new MediaPlane(context(PORT_MIN, PORT_MAX).tos(0).sessionsFile(dir.resolve("other.cm3").toFile()));
        assertEquals(0, tosOfRelayedPacket("call-unmarked"));
    }

    @Test
    void withFreebindMediaSocketsOpenOnAnAddressThisHostDoesNotHave() throws Exception
    {
        // 192.0.2.0/24 is documentation space: on no interface here, as a virtual IP before keepalived moves it in.
        final MediaContext vip = context(PORT_MIN, PORT_MAX).addInterface("vip/192.0.2.77");
        plane = new MediaPlane(vip);
        final StreamSpec alice = StreamSpec.of(new InetSocketAddress("192.0.2.10", 4000));
        final MediaException refused = assertThrows(MediaException.class, () -> plane.registry().offer("no-freebind", "a", List.of(alice)));
        assertTrue(refused.getMessage().contains("Cannot assign requested address") &&
            refused.getMessage().contains("--freebind"), refused.getMessage());
        assertEquals(0, plane.registry().callCount());
        plane.close();

        plane = new MediaPlane(vip.freebind(true).sessionsFile(dir.resolve("freebind.cm3").toFile()));
        final MediaStream stream = plane.registry().offer("freebind", "a", List.of(alice)).get(0);
        final InetSocketAddress bound = (InetSocketAddress)stream.boundRtpAddress();
        assertEquals("192.0.2.77", bound.getAddress().getHostAddress());
        assertEquals(stream.localRtpPort(), bound.getPort());
    }

    @Test
    void theBlockingIdleModeRelaysAndTakesCommandsWhileWaitingInTheKernel() throws Exception
    {
        plane = new MediaPlane(context(PORT_MIN, PORT_MAX).idle("blocking"));
        final int[] ports = setUpCall("call-blocking");
        for (int sequence = 0; sequence < 200; sequence++)
        {
            exchange(sequence, ports[0], ports[1]);
        }
        awaitSleeping(); // the agent waits in the kernel now; a command must wake it
        assertTrue(plane.registry().delete("call-blocking"));
        assertEquals(0, plane.registry().publishedEndpoints());
        setUpCall("call-blocking-2");
        assertCounter(400, plane.counters().txPackets, "packets relayed");
    }

    /**
     * In the default mode the agent stops polling after a quiet spell and waits in the kernel, so an idle relay
     * costs next to no CPU; a packet or a command must still wake it at once.
     */
    @Test
    void aQuietAgentWaitsInTheKernelAndWakesForPacketsAndCommands() throws Exception
    {
        plane = new MediaPlane(context(PORT_MIN, PORT_MAX));
        final int[] ports = setUpCall("call-quiet");
        exchange(0, ports[0], ports[1]);
        awaitSleeping();
        exchange(1, ports[0], ports[1]); // a packet wakes it
        awaitSleeping();
        assertTrue(plane.registry().delete("call-quiet")); // queued: the read below is a command that waits for it
        assertEquals(0, plane.registry().publishedEndpoints());
        awaitSleeping();
        final int[] again = setUpCall("call-quiet-2");
        exchange(2, again[0], again[1]);
    }

    private void awaitSleeping() throws InterruptedException
    {
        final long deadline = System.nanoTime() + 5_000_000_000L;
        while (!plane.forwarderSleeping() && System.nanoTime() - deadline < 0)
        {
            Thread.sleep(5);
        }
        assertTrue(plane.forwarderSleeping(), "the agent never went to wait in the kernel");
    }

    /**
     * Issue 17, item 2: an SDP points one call's leg at another call's media port on Tandem itself. The packet
     * Tandem sends there comes from its own socket: it is dropped and counted, so it cannot circulate between
     * calls (or, with two legs pointed at each other, for ever).
     */
    @Test
    void aPacketFromTandemsOwnSocketIsDroppedNotRelayed() throws Exception
    {
        plane = new MediaPlane(context(PORT_MIN, PORT_MAX));
        final int[] second = setUpCall("call-target"); // Alice and Bob, a call of their own
        final int ownPort = second[0]; // where call-target's Alice sends: one of Tandem's sockets
        try (RtpPeer carol = new RtpPeer(0x33333333))
        {
            plane.registry().offer("call-loop", "carol", List.of(StreamSpec.of(carol.address())));
            plane.registry().answer("call-loop", "carol", "dave",
                List.of(StreamSpec.of(new InetSocketAddress("127.0.0.1", ownPort))));
            // Carol's packets go to "Dave", who is call-target's Alice-facing socket: Tandem itself.
            final int toDave = plane.registry().call("call-loop").monologues().get("dave").subscriber().streams().get(0)
                .localRtpPort();
            carol.send(carol.rtp(1), toDave);
            assertCounter(1, plane.counters().dropOwnSocket, "the looped packet, dropped and counted");
            assertNull(bob.receive(300), "the looped packet must not reach call-target's Bob");
        }
        exchange(2, second[0], second[1]); // the target call is unharmed
    }

    /**
     * Issue 17, item 9: media sockets were bound with SO_REUSEADDR, so a second Tandem on the same host could bind
     * the very ports of the first one's calls and take their media. A port another process holds is now skipped.
     */
    @Test
    void aSecondTandemCannotBindTheFirstOnesMediaPorts() throws Exception
    {
        plane = new MediaPlane(context(PORT_MIN, PORT_MAX));
        final int[] first = setUpCall("call-first");
        try (MediaPlane second = new MediaPlane(context(PORT_MIN, PORT_MAX)
            .sessionsFile(dir.resolve("second.cm3").toFile()).countersFile(dir.resolve("second.dat").toFile())))
        {
            final int theirs = second.registry().offer("call-second", "x", List.of(StreamSpec.of(alice.address())))
                .get(0).localRtpPort();
            assertTrue(theirs != first[0] && theirs != first[1], "the second Tandem got port " + theirs);
            assertTrue(second.counters().portsBusyElsewhere.get() > 0, "the busy ports were skipped and counted");
        }
        exchange(1, first[0], first[1]);
    }

    @Test
    void aRestartedMediaPlaneRelaysTheSameCallOnTheSamePorts() throws Exception
    {
        plane = new MediaPlane(context(PORT_MIN, PORT_MAX));
        final int[] ports = setUpCall("call-restart");
        exchange(1, ports[0], ports[1]);
        plane.close();

        plane = new MediaPlane(context(PORT_MIN, PORT_MAX));
        assertEquals(List.of("call-restart"), plane.registry().callIds());
        for (int sequence = 2; sequence < 12; sequence++)
        {
            exchange(sequence, ports[0], ports[1]);
        }
        assertTrue(plane.registry().delete("call-restart"));
        plane.close();

        plane = new MediaPlane(context(PORT_MIN, PORT_MAX));
        assertEquals(List.of(), plane.registry().callIds(), "a deleted call must not come back");
    }

    @Test
    void badPacketsAreDroppedAndForwardingGoesOn() throws Exception
    {
        plane = new MediaPlane(context(PORT_MIN, PORT_MAX));
        final int[] ports = setUpCall("call-bad");
        exchange(0, ports[0], ports[1]);

        alice.send(alice.rtp(1), PORT_MAX - 1); // a port of the range with no call
        alice.send(new byte[0], ports[0]);
        alice.send(new byte[65_000], ports[0]);
        final byte[] versionOne = alice.rtp(2);
        versionOne[0] = 0x40;
        alice.send(versionOne, ports[0]);

        for (int sequence = 3; sequence < 20; sequence++)
        {
            exchange(sequence, ports[0], ports[1]);
        }
        final MediaCounters counters = plane.counters();
        assertEquals(1, counters.dropTooShort.get(), "the empty datagram");
        assertEquals(1, counters.dropMalformed.get(), "the 65,000-byte datagram");
        assertEquals(1, counters.dropBadVersion.get(), "the RTP version 1 packet");
        assertCounter(18 * 2, counters.txPackets, "packets relayed");
    }

    @Test
    void transcodesWhatOnePartySendsFromUlawToAlaw() throws Exception
    {
        plane = new MediaPlane(context(PORT_MIN, PORT_MAX));
        final int bobSendsTo = plane.registry().offer("call-g711", "alice-tag",
            List.of(StreamSpec.of(alice.address()).withTranscode("PCMU>PCMA"))).get(0).localRtpPort();
        final int aliceSendsTo = plane.registry().answer("call-g711", "alice-tag", "bob-tag",
            List.of(StreamSpec.of(bob.address()))).get(0).localRtpPort();

        final byte[] pcmu = alice.rtp(7);
        alice.send(pcmu, aliceSendsTo);
        final byte[] atBob = RtpPeer.data(bob.receive());
        assertEquals(pcmu.length, atBob.length);
        assertEquals(8, atBob[1], "payload type PCMA");
        assertArrayEquals(java.util.Arrays.copyOfRange(pcmu, 2, 12), java.util.Arrays.copyOfRange(atBob, 2, 12),
            "sequence, timestamp and SSRC untouched");
        for (int i = 12; i < pcmu.length; i++)
        {
            assertEquals(G711.ulawToAlaw(pcmu[i]), atBob[i], "payload byte " + i);
        }
        assertCounter(1, plane.counters().transcoded, "packets transcoded");

        final byte[] fromBob = bob.rtp(8);
        bob.send(fromBob, bobSendsTo);
        assertArrayEquals(fromBob, RtpPeer.data(alice.receive()), "the other direction is not transcoded");
    }

    private static byte[] rtcpSenderReport(final int ssrc)
    {
        final byte[] report = new byte[28];
        report[0] = (byte)0x80;
        report[1] = (byte)200;
        report[3] = 6;
        report[4] = (byte)(ssrc >> 24);
        report[7] = (byte)ssrc;
        return report;
    }

    @Test
    void rtcpMuxOnOneSideIsDemuxedForTheOther() throws Exception
    {
        try (RtpPeer aliceRtcp = new RtpPeer(0x11111111))
        {
            plane = new MediaPlane(context(PORT_MIN, PORT_MAX));
            final int bobSendsTo = plane.registry().offer("call-mux", "alice-tag",
                List.of(StreamSpec.of(alice.address()).withRtcp(aliceRtcp.address(), false))).get(0).localRtpPort();
            final MediaStream towardsAlice = plane.registry().answer("call-mux", "alice-tag", "bob-tag",
                List.of(StreamSpec.of(bob.address()).withRtcp(bob.address(), true))).get(0);

            // Alice's RTCP on her RTCP port reaches Bob on his one (RTP) port, from Tandem's RTP port for him.
            aliceRtcp.send(rtcpSenderReport(1), towardsAlice.localRtcpPort());
            final DatagramPacket atBob = bob.receive();
            assertNotNull(atBob, "Alice's RTCP never reached Bob");
            assertArrayEquals(rtcpSenderReport(1), RtpPeer.data(atBob));
            assertEquals(bobSendsTo, atBob.getPort());

            // Bob's muxed RTCP reaches Alice on her RTCP port, from Tandem's RTCP port for her.
            bob.send(rtcpSenderReport(2), bobSendsTo);
            final DatagramPacket atAlice = aliceRtcp.receive();
            assertNotNull(atAlice, "Bob's RTCP never reached Alice's RTCP port");
            assertArrayEquals(rtcpSenderReport(2), RtpPeer.data(atAlice));
            assertEquals(towardsAlice.localRtcpPort(), atAlice.getPort());

            exchange(1, towardsAlice.localRtpPort(), bobSendsTo);
            assertCounter(2, plane.counters().rtcpPackets, "RTCP packets relayed");
        }
    }

    @Test
    void anUnknownTranscoderIsRefused() throws Exception
    {
        plane = new MediaPlane(context(PORT_MIN, PORT_MAX));
        final MediaException ex = assertThrows(MediaException.class, () -> plane.registry().offer("call-x", "alice-tag",
            List.of(StreamSpec.of(alice.address()).withTranscode("OPUS>PCMA"))));
        assertTrue(ex.getMessage().contains("OPUS>PCMA"), ex.getMessage());
        assertEquals(0, plane.registry().callCount());
    }

    @Test
    void aPortHeldByAnotherProcessIsSkipped() throws Exception
    {
        try (java.net.DatagramSocket squatter = new java.net.DatagramSocket(
            new java.net.InetSocketAddress(RtpPeer.LOOPBACK, PORT_MIN + 1))) // the first pair's RTCP port
        {
            plane = new MediaPlane(context(PORT_MIN, PORT_MAX));
            final int[] ports = setUpCall("call-squatted");
            assertTrue(ports[0] != PORT_MIN && ports[1] != PORT_MIN);
            assertEquals(1, plane.counters().portsBusyElsewhere.get());
            exchange(1, ports[0], ports[1]);
        }
    }

    @Test
    void portExhaustionIsAClearErrorAndLeaksNothing() throws Exception
    {
        plane = new MediaPlane(context(PORT_MIN, PORT_MIN + 3)); // two RTP/RTCP pairs: one stream each way
        setUpCall("fills-the-range");
        final MediaException ex = assertThrows(MediaException.class,
            () -> plane.registry().offer("one-too-many", "carol-tag", List.of(StreamSpec.of(alice.address()))));
        assertEquals("Ran out of ports", ex.getMessage());
        assertEquals(1, plane.registry().callCount());
        assertEquals(1, plane.counters().portsExhausted.get());

        assertTrue(plane.registry().delete("fills-the-range"));
        setUpCall("fits-again");
        assertEquals(1, plane.registry().callCount());
    }
}
