package io.tandem.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.BooleanSupplier;

import io.tandem.journal.JournalNode;
import io.tandem.media.session.CallRecord;
import io.tandem.media.session.MediaStream;
import io.tandem.media.session.StreamSpec;

import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hot-standby pair in one JVM: the active relays on 127.0.0.1, its mirror holds the same calls on the same
 * ports on 127.0.0.2, fed by the state journal over real Aeron. The parties' move from one address to the other
 * stands for keepalived moving the virtual IP. 200 calls with media both ways, one in ten with a NATed party that
 * only sent at the start (so only its latched address reaches it); the mirror must relay every call the moment
 * media reaches it, before any promote, and must not have timed any out while it waited.
 */
class HotStandbyTest
{
    private static final int CALLS = 200;
    private static final InetAddress ACTIVE;
    private static final InetAddress MIRROR;

    static
    {
        try
        {
            ACTIVE = InetAddress.getByName("127.0.0.1");
            MIRROR = InetAddress.getByName("127.0.0.2");
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    @TempDir
    Path dir;

    private MediaPlane active;
    private MediaPlane mirror;
    private final List<DatagramChannel> parties = new ArrayList<>();
    private final AtomicLong wrongCall = new AtomicLong();
    private volatile InetAddress virtualIp = ACTIVE;
    private volatile boolean flowing;
    private volatile long natPartiesStopAtNs;
    private Thread media;

    @AfterEach
    void tearDown() throws InterruptedException
    {
        flowing = false;
        if (media != null)
        {
            media.join(5000);
        }
        CloseHelper.quietCloseAll(parties);
        CloseHelper.quietCloseAll(active, mirror);
    }

    private MediaContext context(final String node, final InetAddress bind, final boolean startActive, final String listen,
        final String peer)
    {
        return TestContexts.media(dir.resolve(node))
            .bindAddress(bind.getHostAddress())
            .portRange(25000, 26999)
            .timeoutNs(TimeUnit.SECONDS.toNanos(2))
            .journal(listen, peer)
            .startActive(startActive);
    }

    private static boolean isNatted(final int call)
    {
        return call % 10 == 0;
    }

    @Test
    void theMirrorRelaysEveryCallTheMomentMediaReachesIt() throws Exception
    {
        active = new MediaPlane(context("a", ACTIVE, true, "127.0.0.1:40710", "127.0.0.1:40720"));
        mirror = new MediaPlane(context("b", MIRROR, false, "127.0.0.1:40720", "127.0.0.1:40710"));
        await(() -> mirror.journal().isInSync(), "the mirror is in sync");

        final int[] sendTo = new int[2 * CALLS];
        final String[] callIds = new String[CALLS];
        for (int i = 0; i < CALLS; i++)
        {
            callIds[i] = new UUID(0x5eed_0000_0000_0000L + i, 77L * i) + "@10.1.2.3";
            final DatagramChannel alice = party();
            final DatagramChannel bob = party();
            // A NATed Bob signals an address he does not send from; the relay latches onto where he does.
            final int bobSignalled = isNatted(i) ? 9000 + i : port(bob);
            final List<MediaStream> towardsBob = active.registry().offer(callIds[i], "alice-" + i,
                List.of(StreamSpec.of(new InetSocketAddress(ACTIVE, port(alice)))));
            final List<MediaStream> towardsAlice = active.registry().answer(callIds[i], "alice-" + i, "bob-" + i,
                List.of(StreamSpec.of(new InetSocketAddress(ACTIVE, bobSignalled))));
            sendTo[2 * i] = towardsAlice.get(0).localRtpPort();
            sendTo[2 * i + 1] = towardsBob.get(0).localRtpPort();
        }
        natPartiesStopAtNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
        final AtomicLongArray heard = startMedia(sendTo);
        awaitAllHeardSince(heard, 0, "relayed by the active");
        await(() -> mirror.registry().callCount() == CALLS, "the mirror holds every call");
        for (int i = 0; i < CALLS; i += 10)
        {
            final String callId = callIds[i];
            await(() -> bobLatched(mirror, callId), "the NATed party's latched address reached the mirror");
        }
        Thread.sleep(2500); // longer than the media timeout: a standby ends no call for want of media
        assertEquals(CALLS, mirror.registry().callCount());
        assertTrue(mirror.registry().isStandby());

        active.close(); // the active dies
        active = null;
        final long movedAt = System.nanoTime();
        virtualIp = MIRROR; // keepalived moves the virtual IP
        final long resumedAt = awaitAllHeardSince(heard, movedAt, "relayed by the mirror, before any promote");
        // (every party but the Alices of NATed calls, whose Bobs now only listen: they hear Alice, she hears nothing)
        System.out.printf("HotStandbyTest: %d calls resumed on the mirror %d ms after the move%n", CALLS,
            TimeUnit.NANOSECONDS.toMillis(resumedAt - movedAt));
        assertEquals(0, wrongCall.get(), "no party received another call's media");

        mirror.promote();
        await(() -> !mirror.registry().isStandby(), "the promoted mirror is active");
        assertEquals(JournalNode.Role.ACTIVE, mirror.journal().role());
        assertEquals(1, mirror.journal().epoch());
        assertEquals(CALLS, mirror.registry().callCount());
        final long promotedAt = System.nanoTime();
        awaitAllHeardSince(heard, promotedAt, "relayed by the promoted node");
    }

    private static boolean bobLatched(final MediaPlane plane, final String callId)
    {
        final CallRecord record = plane.registry().storedRecord(callId);
        if (record == null)
        {
            return false;
        }
        for (final CallRecord.MonologueRecord monologue : record.monologues())
        {
            if (monologue.tag().startsWith("bob-"))
            {
                return monologue.streams().get(0).rtpLearned() != null;
            }
        }
        return false;
    }

    private DatagramChannel party() throws IOException
    {
        final DatagramChannel channel = DatagramChannel.open(StandardProtocolFamily.INET);
        channel.bind(new InetSocketAddress(ACTIVE, 0));
        channel.configureBlocking(false);
        parties.add(channel);
        return channel;
    }

    private static int port(final DatagramChannel channel) throws IOException
    {
        return ((InetSocketAddress)channel.getLocalAddress()).getPort();
    }

    /**
     * Every party sends an RTP packet every 100 ms to its port on the virtual IP (a NATed Bob only for the first
     * 1.5 s, then only listens) and notes when it last heard its own call's other party.
     */
    private AtomicLongArray startMedia(final int[] sendTo) throws IOException
    {
        final AtomicLongArray heard = new AtomicLongArray(parties.size());
        final Selector selector = Selector.open();
        for (int p = 0; p < parties.size(); p++)
        {
            parties.get(p).register(selector, SelectionKey.OP_READ, p);
        }
        flowing = true;
        media = new Thread(() ->
        {
            final ByteBuffer packet = ByteBuffer.allocate(172);
            int sequence = 0;
            long nextSend = System.nanoTime();
            try (selector)
            {
                while (flowing)
                {
                    final long now = System.nanoTime();
                    if (now - nextSend >= 0)
                    {
                        sequence++;
                        for (int p = 0; p < parties.size(); p++)
                        {
                            final boolean natBob = p % 2 == 1 && isNatted(p / 2);
                            if (natBob && now - natPartiesStopAtNs > 0)
                            {
                                continue;
                            }
                            packet.clear();
                            packet.put((byte)0x80).put((byte)0).putShort((short)sequence).putInt(sequence * 160).putInt(p);
                            packet.position(packet.limit()).flip();
                            parties.get(p).send(packet, new InetSocketAddress(virtualIp, sendTo[p]));
                        }
                        nextSend += TimeUnit.MILLISECONDS.toNanos(100);
                    }
                    selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(nextSend - System.nanoTime())));
                    for (final SelectionKey key : selector.selectedKeys())
                    {
                        final int p = (Integer)key.attachment();
                        packet.clear();
                        while (parties.get(p).receive(packet) != null)
                        {
                            if (packet.getInt(8) == (p ^ 1))
                            {
                                heard.set(p, System.nanoTime());
                            }
                            else
                            {
                                wrongCall.incrementAndGet();
                            }
                            packet.clear();
                        }
                    }
                    selector.selectedKeys().clear();
                }
            }
            catch (final IOException ex)
            {
                if (flowing)
                {
                    throw new UncheckedIOException(ex);
                }
            }
        }, "hot-standby-media");
        media.setDaemon(true);
        media.start();
        return heard;
    }

    private static long awaitAllHeardSince(final AtomicLongArray heard, final long sinceNs, final String what)
        throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true)
        {
            long latest = 0;
            final List<Integer> silent = new ArrayList<>();
            for (int p = 0; p < heard.length(); p++)
            {
                if (sinceNs != 0 && p % 2 == 0 && isNatted(p / 2))
                {
                    continue; // this Alice's Bob only listens now
                }
                final long at = heard.get(p);
                if (at == 0 || at - sinceNs < 0)
                {
                    silent.add(p);
                }
                else
                {
                    latest = Math.max(latest, at);
                }
            }
            if (silent.isEmpty())
            {
                return latest;
            }
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError(silent.size() + " parties heard nothing " + what + ", e.g. " +
                    silent.subList(0, Math.min(5, silent.size())));
            }
            Thread.sleep(5);
        }
    }

    private static void await(final BooleanSupplier condition, final String what) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean())
        {
            assertFalse(System.nanoTime() - deadline > 0, "timed out waiting until " + what);
            Thread.sleep(10);
        }
        assertNotNull(what);
    }
}
