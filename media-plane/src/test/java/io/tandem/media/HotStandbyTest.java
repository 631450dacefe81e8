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
import java.nio.channels.DatagramChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
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
    private volatile InetAddress virtualIp = ACTIVE;
    private volatile long natPartiesStopAtNs;
    private PartyMedia media;

    @AfterEach
    void tearDown() throws InterruptedException
    {
        CloseHelper.quietClose(media);
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
            final MediaStream[] offered = new MediaStream[1];
            if (i == 0)
            {
                await(() -> (offered[0] = mirroredStream(callIds[0], "alice-0")) != null, "the offer reached the mirror");
            }
            final List<MediaStream> towardsAlice = active.registry().answer(callIds[i], "alice-" + i, "bob-" + i,
                List.of(StreamSpec.of(new InetSocketAddress(ACTIVE, bobSignalled))));
            if (i == 0)
            {
                // The answer names Bob: the mirror takes the tag onto the streams it has, as the active does (same
                // sockets, relaying throughout), instead of closing them and binding the call again.
                await(() -> mirroredStream(callIds[0], "bob-0") != null, "the answer reached the mirror");
                assertTrue(offered[0] == mirroredStream(callIds[0], "alice-0"), "the mirror kept the offer's stream");
            }
            sendTo[2 * i] = towardsAlice.get(0).localRtpPort();
            sendTo[2 * i + 1] = towardsBob.get(0).localRtpPort();
        }
        natPartiesStopAtNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
        media = new PartyMedia(parties, TimeUnit.MILLISECONDS.toNanos(100), (p) -> target(p, sendTo));
        media.awaitAllHeardSince(0, (p) -> false, "relayed by the active");
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
        final long resumedAt = media.awaitAllHeardSince(movedAt, HotStandbyTest::alicesOfListeningBobs,
            "relayed by the mirror, before any promote");
        System.out.printf("HotStandbyTest: %d calls resumed on the mirror %d ms after the move%n", CALLS,
            TimeUnit.NANOSECONDS.toMillis(resumedAt - movedAt));
        assertEquals(0, media.misdelivered(), "no party received another call's media");

        mirror.promote();
        await(() -> !mirror.registry().isStandby(), "the promoted mirror is active");
        assertEquals(JournalNode.Role.ACTIVE, mirror.journal().role());
        assertEquals(1, mirror.journal().epoch());
        assertEquals(CALLS, mirror.registry().callCount());
        final long promotedAt = System.nanoTime();
        media.awaitAllHeardSince(promotedAt, HotStandbyTest::alicesOfListeningBobs, "relayed by the promoted node");
    }

    /** The mirror's first stream of a party of a call, or null while it has no such call or party. */
    private MediaStream mirroredStream(final String callId, final String tag)
    {
        synchronized (mirror.registry()) // the journal's thread writes the mirror's calls under the registry's lock
        {
            final var call = mirror.registry().call(callId);
            final var monologue = call == null ? null : call.monologues().get(tag);
            return monologue == null || monologue.streams().isEmpty() ? null : monologue.streams().get(0);
        }
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

    /** Where a party sends: its port on the virtual IP; a NATed Bob only for the first 1.5 s, then he only listens. */
    private InetSocketAddress target(final int party, final int[] sendTo)
    {
        final boolean natBob = party % 2 == 1 && isNatted(party / 2);
        return natBob && System.nanoTime() - natPartiesStopAtNs > 0 ? null : new InetSocketAddress(virtualIp, sendTo[party]);
    }

    /** After the NATed Bobs stop, their Alices hear nothing: they are not waited for. */
    private static boolean alicesOfListeningBobs(final int party)
    {
        return party % 2 == 0 && isNatted(party / 2);
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

    /** A start that fails (the journal's port is taken) leaves nothing open: the next start on the file works. */
    @Test
    void aStartThatFailsLetsGoOfTheSessionsFile() throws Exception
    {
        try (java.nio.channels.DatagramChannel squatter = java.nio.channels.DatagramChannel.open())
        {
            squatter.bind(new InetSocketAddress("127.0.0.1", 40730));
            org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class,
                () -> new MediaPlane(context("c", ACTIVE, true, "127.0.0.1:40730", "127.0.0.1:40740")));
        }
        active = new MediaPlane(TestContexts.media(dir.resolve("c")).bindAddress("127.0.0.1").portRange(25000, 26999));
        assertEquals(0, active.registry().callCount());
    }

    /**
     * A node fenced by its peer before anyone listens for role changes (a restarted old active hearing the new
     * one's higher epoch while it starts) still reports standby to whoever registers afterwards: Main registers
     * only once the media plane is built, and the ng role must not stay "active".
     */
    @Test
    void aListenerRegisteredAfterAFenceIsToldTheRoleNow() throws Exception
    {
        active = new MediaPlane(context("a", ACTIVE, true, "127.0.0.1:40750", "127.0.0.1:40760"));
        mirror = new MediaPlane(context("b", MIRROR, false, "127.0.0.1:40760", "127.0.0.1:40750"));
        mirror.promote();
        await(() -> active.registry().isStandby(), "the old active is fenced by the promoted mirror");
        final java.util.concurrent.atomic.AtomicReference<Boolean> told = new java.util.concurrent.atomic.AtomicReference<>();
        active.onRoleChange(told::set);
        assertEquals(Boolean.FALSE, told.get(), "a late listener learns the node is standby");
    }
}
