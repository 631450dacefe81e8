package io.tandem.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import io.tandem.media.stats.MediaCounters;
import io.tandem.media.session.StreamSpec;

import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proves the packet path allocates nothing in steady state: the forwarding agent thread's allocated-bytes counter
 * stays below a kilobyte (0 bytes per packet) while it relays a million packets.
 */
class AllocationTest
{
    private static final long WARM_UP = 200_000;
    private static final long MEASURED = 1_000_000;
    private static final int IN_FLIGHT = 64;
    private static final long ONE_OFF_LIMIT = 1024;

    @TempDir
    Path dir;

    private MediaPlane plane;
    private DatagramSocket alice;
    private DatagramSocket bob;
    private Thread drain;
    private final AtomicBoolean running = new AtomicBoolean(true);

    @AfterEach
    void tearDown() throws InterruptedException
    {
        running.set(false);
        if (drain != null)
        {
            drain.join(5000);
        }
        CloseHelper.quietCloseAll(plane, alice, bob);
    }

    @ParameterizedTest
    @ValueSource(strings = {"epoll", "nio"})
    void relayingAMillionPacketsAllocatesNothing(final String transport) throws Exception
    {
        plane = new MediaPlane(TestContexts.media(dir)
            .transport(transport)
            .portRange(23000, 23099));
        alice = new DatagramSocket(new InetSocketAddress(RtpPeer.LOOPBACK, 0));
        bob = new DatagramSocket(new InetSocketAddress(RtpPeer.LOOPBACK, 0));
        bob.setSoTimeout(100);
        plane.registry().offer("alloc", "a", List.of(StreamSpec.of((InetSocketAddress)alice.getLocalSocketAddress())));
        final int aliceSendsTo = plane.registry().answer("alloc", "a", "b",
            List.of(StreamSpec.of((InetSocketAddress)bob.getLocalSocketAddress()))).get(0).localRtpPort();

        drain = new Thread(() ->
        {
            final DatagramPacket packet = new DatagramPacket(new byte[2048], 2048);
            while (running.get())
            {
                try
                {
                    bob.receive(packet);
                }
                catch (final SocketTimeoutException ignored)
                {
                    // keep draining until told to stop
                }
                catch (final Exception ex)
                {
                    return;
                }
            }
        }, "drain");
        drain.start();

        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final long agentThread = plane.forwarderThread().threadId();
        final MediaCounters counters = plane.counters();
        final DatagramPacket rtp = new DatagramPacket(new byte[172], 172, RtpPeer.LOOPBACK, aliceSendsTo);
        rtp.getData()[0] = (byte)0x80;

        relay(rtp, counters, WARM_UP);
        final long allocatedBefore = threads.getThreadAllocatedBytes(agentThread);
        final long relayedBefore = counters.txPackets.get();
        relay(rtp, counters, relayedBefore + MEASURED);
        final long allocated = threads.getThreadAllocatedBytes(agentThread) - allocatedBefore;
        final long relayed = counters.txPackets.get() - relayedBefore;

        assertTrue(relayed >= MEASURED, "relayed " + relayed);
        assertEquals(0, counters.dropWrongSource.get());
        // Any per-packet allocation would show as at least 16 bytes x 1,000,000 packets. What a run may show instead
        // is a one-off of about 150 bytes, independent of the packet count (seen in some runs, not traced yet).
        System.out.printf("forwarding agent (%s) allocated %d bytes over %d packets%n", transport, allocated, relayed);
        assertTrue(allocated < ONE_OFF_LIMIT, "bytes allocated by the forwarding agent over " + relayed + " packets: " + allocated);
    }

    /** Send from Alice, keeping at most {@link #IN_FLIGHT} packets inside Tandem, until it has relayed {@code total}. */
    private void relay(final DatagramPacket rtp, final MediaCounters counters, final long total) throws Exception
    {
        long sent = counters.rxPackets.get();
        int sequence = 0;
        while (counters.txPackets.get() < total)
        {
            if (sent - counters.rxPackets.get() < IN_FLIGHT)
            {
                final byte[] data = rtp.getData();
                data[2] = (byte)(sequence >> 8);
                data[3] = (byte)sequence++;
                alice.send(rtp);
                sent++;
            }
            else
            {
                Thread.onSpinWait();
                if (sent - counters.rxPackets.get() >= IN_FLIGHT)
                {
                    sent = counters.rxPackets.get(); // packets the kernel dropped never reach rx: do not wait for them
                    Thread.yield();
                }
            }
        }
    }
}
