package io.tandem.media;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import io.tandem.media.relay.LatchMode;
import io.tandem.media.session.MediaException;
import io.tandem.media.session.StreamSpec;

import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An open-loop flood far beyond what the relay can carry: the flood costs only the packets that did not fit, a
 * quiet call beside it keeps getting its media through, and afterwards every stream relays again without loss.
 * (rtpengine 10.5 stops reading a socket for good after five overloaded passes; Tandem never gives up on one.)
 */
class FloodTest
{
    private static final long FLOOD_MS = 1500;

    @TempDir
    Path dir;

    private MediaPlane plane;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final AtomicBoolean flooding = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();

    @AfterEach
    void tearDown() throws InterruptedException
    {
        flooding.set(false);
        for (final Thread thread : threads)
        {
            thread.join(5000);
        }
        CloseHelper.quietCloseAll(closeables);
        CloseHelper.quietClose(plane);
    }

    private RtpPeer peer(final int ssrc) throws Exception
    {
        final RtpPeer peer = new RtpPeer(ssrc);
        closeables.add(peer);
        return peer;
    }

    private int[] call(final String callId, final RtpPeer a, final RtpPeer b) throws MediaException
    {
        final int bSendsTo = plane.registry().offer(callId, "a", List.of(StreamSpec.of(a.address()))).get(0).localRtpPort();
        final int aSendsTo = plane.registry().answer(callId, "a", "b", List.of(StreamSpec.of(b.address()))).get(0).localRtpPort();
        return new int[] {aSendsTo, bSendsTo};
    }

    /** Blast packets from a socket bound to {@code from}'s address until told to stop. */
    private void flood(final InetSocketAddress target) throws Exception
    {
        final DatagramSocket socket = new DatagramSocket(new InetSocketAddress(RtpPeer.LOOPBACK, 0));
        closeables.add(socket);
        final byte[] rtp = new RtpPeer(9).rtp(1);
        final Thread thread = new Thread(() ->
        {
            final DatagramPacket packet = new DatagramPacket(rtp, rtp.length, target);
            while (flooding.get())
            {
                try
                {
                    socket.send(packet);
                }
                catch (final Exception ex)
                {
                    return;
                }
            }
        }, "flood");
        threads.add(thread);
        thread.start();
    }

    private static void lockstep(final RtpPeer a, final RtpPeer b, final int[] ports, final int packets) throws Exception
    {
        for (int i = 0; i < packets; i++)
        {
            final byte[] fromA = a.rtp(i);
            a.send(fromA, ports[0]);
            final DatagramPacket atB = b.receive();
            assertNotNull(atB, "packet " + i + " lost after the flood");
            assertArrayEquals(fromA, RtpPeer.data(atB));
            final byte[] fromB = b.rtp(i);
            b.send(fromB, ports[1]);
            final DatagramPacket atA = a.receive();
            assertNotNull(atA, "packet " + i + " lost after the flood");
            assertArrayEquals(fromB, RtpPeer.data(atA));
        }
    }

    @Test
    void aFloodCostsOnlyWhatDidNotFitAndEveryStreamRecovers() throws Exception
    {
        plane = new MediaPlane(TestContexts.media(dir)
            .portRange(27000, 27099)
            .latchMode(LatchMode.OFF));
        final RtpPeer floodedA = peer(1);
        final RtpPeer floodedB = peer(2);
        final RtpPeer quietA = peer(3);
        final RtpPeer quietB = peer(4);
        final int[] flooded = call("flooded", floodedA, floodedB);
        final int[] quiet = call("quiet", quietA, quietB);
        lockstep(floodedA, floodedB, flooded, 5);
        lockstep(quietA, quietB, quiet, 5);

        // Each flooder sends from its own unsignalled address; learning is off and strict source on, so all of it
        // is read and dropped as wrong-source: the relay does the full receive work for every packet.
        flood(new InetSocketAddress(RtpPeer.LOOPBACK, flooded[0]));
        flood(new InetSocketAddress(RtpPeer.LOOPBACK, flooded[1]));

        int quietSent = 0;
        int quietReceived = 0;
        quietB.timeout(20);
        final long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(FLOOD_MS);
        while (System.nanoTime() - end < 0)
        {
            quietA.send(quietA.rtp(100 + quietSent), quiet[0]);
            quietSent++;
            if (quietB.receive() != null)
            {
                quietReceived++;
            }
            Thread.sleep(20);
        }
        final long floodDrops = plane.counters().dropWrongSource.get();
        flooding.set(false);
        for (final Thread thread : threads)
        {
            thread.join(5000);
        }
        System.out.printf("flood: %,d flood packets read and dropped; quiet call got %d of %d packets through%n",
            floodDrops, quietReceived, quietSent);
        assertTrue(floodDrops > 10_000, "the flood was read: " + floodDrops);
        assertTrue(quietReceived * 2 >= quietSent, "the quiet call was starved: " + quietReceived + "/" + quietSent);

        quietB.timeout(2000);
        while (quietB.receive(100) != null)
        {
            // late packets of the flood period: drained once 100 ms pass with none
        }
        lockstep(floodedA, floodedB, flooded, 200);
        lockstep(quietA, quietB, quiet, 200);
    }
}
