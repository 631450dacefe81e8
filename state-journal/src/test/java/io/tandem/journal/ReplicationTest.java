package io.tandem.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import io.aeron.Aeron;
import io.aeron.Publication;
import io.aeron.driver.MediaDriver;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two journal nodes over real Aeron on loopback, each with its own embedded media driver and its own journal
 * endpoint, as two hosts on a private link would be. On one host the nodes tell each other apart by port: each
 * sends from the port after the one it listens on, and accepts records only from its peer's.
 */
class ReplicationTest
{
    private static final int TABLE = 1;
    private static final String A = "127.0.0.1:40610";
    private static final String B = "127.0.0.1:40620";

    @TempDir
    Path dir;

    private final List<JournalNode> nodes = new ArrayList<>();

    @AfterEach
    void tearDown()
    {
        CloseHelper.quietCloseAll(nodes);
    }

    private JournalNode node(final String name, final String listen, final String peer, final boolean active,
        final JournalSink sink, final TestCounters counters)
    {
        return node(name, new JournalContext().listen(listen).peer(peer).startActive(active), sink, counters);
    }

    private JournalNode node(final String name, final JournalContext ctx, final JournalSink sink, final TestCounters counters)
    {
        final JournalNode node = new JournalNode(ctx.epochFile(dir.resolve(name + ".epoch").toFile()), sink, counters);
        nodes.add(node);
        return node;
    }

    private static byte[] bytes(final String text)
    {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    static String callId(final int i)
    {
        return new UUID(0xca11_0000_0000_0000L + i, i) + "@pbx.example.com";
    }

    private static void await(final BooleanSupplier condition, final String what) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(5);
        }
    }

    /** What the active holds, as a sink would show it. */
    private static Map<String, String> expected(final Map<String, String> rows)
    {
        final Map<String, String> shown = new HashMap<>();
        rows.forEach((key, value) -> shown.put(TABLE + "/" + key, value));
        return shown;
    }

    @Test
    void theMirrorAppliesEveryChangeInOrder() throws Exception
    {
        final RecordingSink mirrorTable = new RecordingSink();
        final TestCounters mirrorCounters = new TestCounters();
        final JournalNode active = node("a", A, B, true, new RecordingSink(), new TestCounters()).start();
        final JournalNode mirror = node("b", B, A, false, mirrorTable, mirrorCounters).start();
        await(mirror::isInSync, "the mirror has its first snapshot");

        final Map<String, String> rows = new HashMap<>();
        for (int i = 0; i < 1000; i++)
        {
            rows.put(callId(i), "offer " + i);
            active.put(TABLE, bytes(callId(i)), bytes("offer " + i));
        }
        for (int i = 0; i < 1000; i += 3)
        {
            rows.remove(callId(i));
            active.remove(TABLE, bytes(callId(i)));
        }
        for (int i = 1; i < 1000; i += 3)
        {
            rows.put(callId(i), "answer " + i);
            active.put(TABLE, bytes(callId(i)), bytes("answer " + i));
        }
        await(() -> mirrorTable.rows.equals(expected(rows)), "the mirror holds what the active holds");
        assertEquals(0, mirrorCounters.get("tandem_journal_refused_total"));
        assertEquals(1, mirrorCounters.get("tandem_journal_snapshots_received_total"));
        assertEquals(JournalNode.Role.MIRROR, mirror.role());
    }

    /**
     * The rate the issue sets, with records the size of a call's (800 bytes), written in bursts as calls come: the
     * mirror keeps up throughout and is level with the active as soon as the writes stop. A mirror that parks
     * between passes must still take every datagram the active sends while it sleeps: before, its embedded driver
     * took one datagram per pass, the socket overflowed, and recovery by NAK ran at one datagram per park (a
     * mirror 20,000 records behind after a 24 s churn, and still catching up a minute later).
     */
    @Test
    void theMirrorKeepsUpWithAThousandChangesASecond() throws Exception
    {
        final TestCounters activeCounters = new TestCounters();
        final TestCounters mirrorCounters = new TestCounters();
        final JournalNode active = node("a", A, B, true, new RecordingSink(), activeCounters).start();
        node("b", B, A, false, new RecordingSink(), mirrorCounters).start();
        await(() -> mirrorCounters.get("tandem_journal_snapshots_received_total") == 1, "the mirror's first snapshot");

        final byte[] value = new byte[800];
        java.util.Arrays.fill(value, (byte)'v');
        long maxLag = 0;
        final long startNs = System.nanoTime();
        for (int burst = 0; burst < 100; burst++) // 5 s: 50 changes every 50 ms
        {
            for (int i = 0; i < 50; i++)
            {
                final int call = burst * 50 + i;
                active.put(TABLE, bytes(callId(call % 700)), value);
            }
            while (System.nanoTime() - startNs < TimeUnit.MILLISECONDS.toNanos(50L * (burst + 1)))
            {
                maxLag = Math.max(maxLag, activeCounters.get("tandem_journal_position") -
                    mirrorCounters.get("tandem_journal_applied_position"));
                Thread.sleep(1);
            }
        }
        final long lastNs = System.nanoTime();
        await(() -> mirrorCounters.get("tandem_journal_applied_position") == 5_000, "the mirror applied all");
        final long levelMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastNs);
        System.out.printf("mirror at 1,000 changes/s: largest lag %d records, level %d ms after the last write%n",
            maxLag, levelMs);
        Thread.sleep(1_500); // quiet: both threads park long, the active's first records find the mirror asleep
        final long burstNs = System.nanoTime();
        for (int i = 0; i < 5_000; i++)
        {
            active.put(TABLE, bytes(callId(i % 700)), value);
        }
        await(() -> mirrorCounters.get("tandem_journal_applied_position") == 10_000, "the mirror applied the burst");
        final long burstMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - burstNs);
        System.out.printf("a burst of 5,000 after a quiet spell: level in %d ms%n", burstMs);
        assertTrue(burstMs < 2_000, "a burst of 5,000 (4 MB) applied within 2 s, took " + burstMs + " ms");
        assertEquals(1, mirrorCounters.get("tandem_journal_snapshots_received_total"), "no resync");
        assertEquals(0, activeCounters.get("tandem_journal_dropped_total"));
        assertTrue(levelMs < 500, "level within 500 ms of the last write, was " + levelMs + " ms");
        assertTrue(maxLag <= 250, "at most 250 records (a quarter second) behind, was " + maxLag);
    }

    /**
     * One active, two mirrors, over an Aeron multi-destination-cast channel: the active sends each record once, to a
     * control endpoint the mirrors register with, and each mirror asks for its snapshot over unicast. Both end
     * with the active's table; a mirror that joins late gets a snapshot without disturbing the other.
     */
    @Test
    void twoMirrorsFollowOneActiveOverMultiDestinationCast() throws Exception
    {
        final String activeControl = "aeron:udp?endpoint=127.0.0.1:40710";
        final String mdc = "127.0.0.1:40711";
        final JournalNode active = node("mdc-a", new JournalContext()
            .listenChannel(activeControl)
            .peerChannel("aeron:udp?control=" + mdc + "|control-mode=dynamic"), new RecordingSink(), new TestCounters()).start();
        final RecordingSink first = new RecordingSink();
        final JournalNode b = node("mdc-b", new JournalContext()
            .listenChannel("aeron:udp?endpoint=127.0.0.1:40720|control=" + mdc)
            .peerChannel(activeControl).startActive(false), first, new TestCounters()).start();
        await(b::isInSync, "the first mirror has its snapshot");

        final Map<String, String> rows = new HashMap<>();
        for (int i = 0; i < 300; i++)
        {
            rows.put(callId(i), "offer " + i);
            active.put(TABLE, bytes(callId(i)), bytes("offer " + i));
        }
        await(() -> first.rows.equals(expected(rows)), "the first mirror holds the active's table");

        final RecordingSink second = new RecordingSink();
        final TestCounters secondCounters = new TestCounters();
        final JournalNode c = node("mdc-c", new JournalContext()
            .listenChannel("aeron:udp?endpoint=127.0.0.1:40730|control=" + mdc)
            .peerChannel(activeControl).startActive(false), second, secondCounters).start();
        await(c::isInSync, "the second mirror has its snapshot");
        for (int i = 0; i < 300; i += 2)
        {
            rows.remove(callId(i));
            active.remove(TABLE, bytes(callId(i)));
        }
        await(() -> first.rows.equals(expected(rows)) && second.rows.equals(expected(rows)),
            "both mirrors hold the active's table");
        assertEquals(0, secondCounters.get("tandem_journal_refused_total"));
        assertEquals(JournalNode.Role.MIRROR, b.role());
        assertEquals(JournalNode.Role.MIRROR, c.role());
    }

    @Test
    void aMirrorThatRestartsResyncsBySnapshotWithNothingLostOrLeftOver() throws Exception
    {
        final JournalNode active = node("a", A, B, true, new RecordingSink(), new TestCounters()).start();
        final Map<String, String> rows = new HashMap<>();
        for (int i = 0; i < 500; i++)
        {
            rows.put(callId(i), "v1 " + i);
            active.put(TABLE, bytes(callId(i)), bytes("v1 " + i));
        }
        final RecordingSink first = new RecordingSink();
        final JournalNode mirror = node("b", B, A, false, first, new TestCounters()).start();
        await(() -> first.rows.equals(expected(rows)), "the first mirror caught up by snapshot");
        mirror.close();

        for (int i = 0; i < 100; i++) // while the mirror is down
        {
            rows.remove(callId(i));
            active.remove(TABLE, bytes(callId(i)));
            rows.put(callId(1000 + i), "v1 " + (1000 + i));
            active.put(TABLE, bytes(callId(1000 + i)), bytes("v1 " + (1000 + i)));
            rows.put(callId(200 + i), "v2 " + (200 + i));
            active.put(TABLE, bytes(callId(200 + i)), bytes("v2 " + (200 + i)));
        }
        final RecordingSink second = new RecordingSink();
        second.rows.putAll(first.rows); // what its own file kept from before
        final TestCounters counters = new TestCounters();
        final JournalNode restarted = node("b", B, A, false, second, counters);
        first.rows.forEach((key, value) -> restarted.seed(TABLE, bytes(key.substring(2)), bytes(value)));
        restarted.start();
        await(() -> second.rows.equals(expected(rows)), "the restarted mirror converged");
        for (int i = 0; i < 50; i++) // and follows the live journal after the snapshot
        {
            rows.put(callId(2000 + i), "live " + i);
            active.put(TABLE, bytes(callId(2000 + i)), bytes("live " + i));
        }
        await(() -> second.rows.equals(expected(rows)), "the restarted mirror follows the live journal");
        assertEquals(0, counters.get("tandem_journal_refused_total"));
    }

    @Test
    void recordsFromAStrangerOrAnotherClusterAreRefusedAndNothingIsApplied() throws Exception
    {
        final RecordingSink mirrorTable = new RecordingSink();
        final TestCounters mirrorCounters = new TestCounters();
        final JournalNode mirror = node("b", B, A, false, mirrorTable, mirrorCounters).start();
        final JournalNode stranger = node("s", "127.0.0.1:40630", B, true, new RecordingSink(), new TestCounters()).start();
        final JournalNode otherCluster = node("c", new JournalContext().listen("127.0.0.1:40640").peer(B).clusterId(7),
            new RecordingSink(), new TestCounters()).start();
        for (int i = 0; i < 20; i++)
        {
            stranger.put(TABLE, bytes("stranger-" + i), bytes("x"));
            otherCluster.put(TABLE, bytes("other-" + i), bytes("x"));
            Thread.sleep(20);
        }
        await(() -> mirrorCounters.get("tandem_journal_refused_total") >= 20, "the mirror refused their records");
        assertTrue(mirrorTable.rows.isEmpty(), "nothing applied: " + mirrorTable.rows.keySet());
        assertFalse(mirror.isInSync());

        final JournalNode active = node("a", A, B, true, new RecordingSink(), new TestCounters()).start();
        active.put(TABLE, bytes("real"), bytes("call"));
        await(() -> "call".equals(mirrorTable.rows.get(TABLE + "/real")), "the real peer's record arrives");
        assertEquals(1, mirrorTable.rows.size());
    }

    @Test
    void corruptAndTruncatedRecordsFromThePeersAddressAreRefusedCountedAndNeverApplied() throws Exception
    {
        final RecordingSink mirrorTable = new RecordingSink();
        final TestCounters mirrorCounters = new TestCounters();
        final JournalNode mirror = node("b", B, A, false, mirrorTable, mirrorCounters).start();
        final List<byte[]> bad = new ArrayList<>();
        final UnsafeBuffer good = new UnsafeBuffer(new byte[512]);
        final int length = new JournalRecord().encode(good, 0, JournalRecord.PUT, (byte)0, TABLE,
            new JournalContext().clusterId(), 1, 1, System.nanoTime(), bytes(callId(1)), bytes("a call"));
        final byte[] flipped = Arrays.copyOf(good.byteArray(), length);
        flipped[length - 1] ^= 0x40; // a bit of the value: the checksum no longer holds
        bad.add(flipped);
        bad.add(Arrays.copyOf(good.byteArray(), 30)); // truncated inside the header
        bad.add(Arrays.copyOf(good.byteArray(), length - 3)); // truncated inside the value
        final byte[] badMagic = Arrays.copyOf(good.byteArray(), length);
        badMagic[0] = 'X';
        bad.add(badMagic);
        final byte[] badLength = Arrays.copyOf(good.byteArray(), length);
        new UnsafeBuffer(badLength).putInt(12, 1 << 20); // a key longer than the record
        bad.add(badLength);
        bad.add(new byte[] {1, 2, 3});
        final long before = mirrorCounters.get("tandem_journal_refused_total");
        // A forger on the peer's own sending endpoint (the port after A's; A itself is not running yet): only what
        // it sends can fail the source check no longer, so each record's own checks are what refuse it
        try (MediaDriver driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
                .aeronDirectoryName(dir.resolve("forger").toString()).dirDeleteOnShutdown(true));
            Aeron aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(driver.aeronDirectoryName()));
            Publication forger = aeron.addPublication("aeron:udp?endpoint=" + B + "|interface=127.0.0.1:40611",
                new JournalContext().dataStreamId()))
        {
            await(forger::isConnected, "the mirror hears the forger's stream");
            for (final byte[] record : bad)
            {
                final UnsafeBuffer out = new UnsafeBuffer(record);
                await(() -> forger.offer(out) > 0, "the forger's record is sent");
            }
            await(() -> mirrorCounters.get("tandem_journal_refused_total") - before >= bad.size(),
                "every bad record is refused and counted");
            assertTrue(mirrorTable.rows.isEmpty(), "nothing applied: " + mirrorTable.rows.keySet());
            // Well-formed records from the same sender are taken (a snapshot's first row): so what refused the
            // others was their content, not their source
            final JournalRecord encoder = new JournalRecord();
            final int cluster = new JournalContext().clusterId();
            final UnsafeBuffer out = new UnsafeBuffer(new byte[512]);
            final int begin = encoder.encode(out, 0, JournalRecord.SNAPSHOT_BEGIN, (byte)0, 0, cluster, 0, 5, 0, null,
                null);
            await(() -> forger.offer(out, 0, begin) > 0, "a snapshot's start is sent");
            final int row = encoder.encode(out, 0, JournalRecord.PUT, JournalRecord.FLAG_SNAPSHOT, TABLE, cluster, 0, 5,
                0, bytes("forged"), bytes("row"));
            await(() -> forger.offer(out, 0, row) > 0, "a snapshot's row is sent");
            await(() -> "row".equals(mirrorTable.rows.get(TABLE + "/forged")), "the well-formed row is applied");
        }
        assertFalse(mirror.isInSync(), "a snapshot that never ended");

        final JournalNode active = node("a", A, B, true, new RecordingSink(), new TestCounters()).start();
        active.put(TABLE, bytes("real"), bytes("call"));
        await(() -> "call".equals(mirrorTable.rows.get(TABLE + "/real")), "the real peer's record arrives");
        await(() -> !mirrorTable.rows.containsKey(TABLE + "/forged"), "the real peer's snapshot replaces the rest");
        assertEquals(Map.of(TABLE + "/real", "call"), Map.copyOf(mirrorTable.rows));
        assertTrue(mirror.isInSync(), "synchronised by the real peer's snapshot");
    }

    @Test
    void aPromotedMirrorRaisesTheEpochAndTheOldActiveBecomesItsMirror() throws Exception
    {
        final RecordingSink tableA = new RecordingSink();
        final RecordingSink tableB = new RecordingSink();
        final TestCounters countersA = new TestCounters();
        final JournalNode a = node("a", A, B, true, tableA, countersA).start();
        final JournalNode b = node("b", B, A, false, tableB, new TestCounters()).start();
        a.put(TABLE, bytes("before"), bytes("failover"));
        await(() -> tableB.rows.containsKey(TABLE + "/before"), "the mirror has the first call");

        b.promote();
        await(() -> a.role() == JournalNode.Role.MIRROR, "the old active, fenced by the higher epoch, mirrors");
        assertEquals(JournalNode.Role.ACTIVE, b.role());
        assertEquals(1, b.epoch());
        await(() -> a.epoch() == 1, "the old active adopted the new epoch");
        assertEquals(JournalNode.Role.MIRROR, tableA.role);

        a.put(TABLE, bytes("from the demoted node"), bytes("lost on purpose")); // a mirror never writes
        b.put(TABLE, bytes("after"), bytes("failover"));
        await(() -> tableA.rows.containsKey(TABLE + "/after"), "the new active journals to the old one");
        assertFalse(tableA.rows.containsKey(TABLE + "/from the demoted node"));
        assertFalse(tableB.rows.containsKey(TABLE + "/from the demoted node"));
    }
}
