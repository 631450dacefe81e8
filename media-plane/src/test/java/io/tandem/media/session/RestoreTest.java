package io.tandem.media.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import io.tandem.media.MediaContext;
import io.tandem.media.MediaPlane;
import io.tandem.media.TestContexts;
import io.tandem.media.stats.MediaCounters;

import org.agrona.CloseHelper;
import org.agrona.concurrent.status.CountersReader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Restoring the sessions file at scale: every call comes back with its own ports and peers, whatever the shape of
 * its Call-ID; a record that cannot be restored is kept aside, counted, and tried again at the next start.
 */
class RestoreTest
{
    private static final int CALLS = 1000;

    @TempDir
    Path dir;

    private MediaPlane plane;

    @AfterEach
    void tearDown()
    {
        CloseHelper.quietClose(plane);
    }

    private MediaContext context()
    {
        return TestContexts.media(dir).bindAddress("127.0.0.1").portRange(24000, 29999).timeoutNs(0);
    }

    /** Call-IDs as user agents make them: all of one length (a UUID at a host). */
    static String callId(final int i)
    {
        return new UUID(0x5eed_0000_0000_0000L + i, i * 7919L) + "@10.0.0.7";
    }

    @Test
    void everyCallWithEqualLengthCallIdsComesBackWithItsOwnPortsAndPeers() throws Exception
    {
        plane = new MediaPlane(context());
        final Map<String, CallRecord> before = new HashMap<>();
        for (int i = 0; i < CALLS; i++)
        {
            final String id = callId(i);
            plane.registry().offer(id, "from-" + i, List.of(StreamSpec.of(new InetSocketAddress("127.0.0.1", 10000 + i))));
            plane.registry().answer(id, "from-" + i, "to-" + i, List.of(StreamSpec.of(new InetSocketAddress("127.0.0.2", 10000 + i))));
            before.put(id, CallRecord.of(plane.registry().call(id)));
        }
        plane.close();

        plane = new MediaPlane(context());
        assertEquals(CALLS, plane.registry().callCount());
        assertEquals(CALLS, plane.registry().storedCalls());
        for (final Map.Entry<String, CallRecord> call : before.entrySet())
        {
            final Call restored = plane.registry().call(call.getKey());
            assertNotNull(restored, "call " + call.getKey() + " was not restored");
            assertEquals(call.getValue(), CallRecord.of(restored), "call " + call.getKey() + " came back different");
        }
        assertEquals(4L * CALLS, plane.counters().portsInUse.get());
        assertEquals(0, plane.counters().callsAside.get());
    }

    @Test
    void unreadableRecordsAreKeptAsideCountedAndRetried() throws Exception
    {
        final CallRecord good = new CallRecord(callId(1), List.of(new CallRecord.MonologueRecord("a", null,
            List.of(new CallRecord.StreamRecord("default", 24000, StreamSpec.of(new InetSocketAddress("127.0.0.1", 9000)))))));
        final CallRecord elsewhere = new CallRecord(callId(2), List.of(new CallRecord.MonologueRecord("a", null,
            List.of(new CallRecord.StreamRecord("edge", 26000, StreamSpec.of(new InetSocketAddress("127.0.0.1", 9002)))))));
        final byte[] corrupt = Arrays.copyOf(good.encode(), 9);
        final byte[] newer = good.encode();
        newer[0] = 99;
        try (SessionStore store = new SessionStore(context().sessionsFile(), 100))
        {
            store.put(good.callId(), good.encode());
            store.put(elsewhere.callId(), elsewhere.encode());
            store.put(callId(3), corrupt);
            store.put(callId(4), newer);
        }

        plane = new MediaPlane(context());
        assertEquals(List.of(good.callId()), plane.registry().callIds());
        assertEquals(1, plane.registry().storedCalls(), "unrestorable calls leave the table");
        assertEquals(3, plane.counters().callsAside.get());
        final Map<String, Long> failures = restoreFailures(plane.counters());
        assertEquals(Map.of("corrupt", 1L, "newer_format", 1L, "unknown_interface", 1L, "unknown_transcoder", 0L,
            "port_unavailable", 0L), failures);
        final Map<String, SessionTable.Aside> aside = asideById();
        assertEquals("unknown_interface", aside.get(elsewhere.callId()).reason());
        assertTrue(Arrays.equals(corrupt, aside.get(callId(3)).record()), "kept aside byte for byte");
        assertTrue(Arrays.equals(newer, aside.get(callId(4)).record()));
        assertTrue(tandemStat(plane.counters()).contains("calls kept aside (not restored):"), "tandem-stat shows them");
        plane.close();

        // The next start has the interface: that call comes back; the unreadable two are tried again and stay aside.
        plane = new MediaPlane(context().addInterface("default/127.0.0.1/24000-25999").addInterface("edge/127.0.0.1/26000-27999"));
        assertEquals(java.util.Set.of(good.callId(), elsewhere.callId()), java.util.Set.copyOf(plane.registry().callIds()));
        assertEquals(2, plane.registry().storedCalls());
        assertNotNull(plane.registry().storedRecord(elsewhere.callId()), "a restored call goes back into the table");
        assertEquals(2, plane.counters().callsAside.get());
        assertEquals(Map.of("corrupt", 1L, "newer_format", 1L, "unknown_interface", 0L, "unknown_transcoder", 0L,
            "port_unavailable", 0L), restoreFailures(plane.counters()), "counted again by the start that retried them");
        assertNull(asideById().get(elsewhere.callId()));
    }

    private Map<String, SessionTable.Aside> asideById()
    {
        final Map<String, SessionTable.Aside> byId = new HashMap<>();
        for (final SessionTable.Aside aside : new AsideRecords(context().sessionsFile()).all())
        {
            byId.put(aside.callId(), aside);
        }
        return byId;
    }

    private static Map<String, Long> restoreFailures(final MediaCounters counters)
    {
        final Map<String, Long> byReason = new HashMap<>();
        for (final MediaCounters.Metric metric : counters.metrics())
        {
            if (metric.family().equals("tandem_restore_failures_total"))
            {
                byReason.put(metric.name().replaceAll(".*reason=\"(.*)\".*", "$1"), metric.counter().get());
            }
        }
        return byReason;
    }

    private static String tandemStat(final MediaCounters counters)
    {
        final java.io.ByteArrayOutputStream text = new java.io.ByteArrayOutputStream();
        final CountersReader reader = counters.reader();
        io.tandem.media.stats.TandemStat.print(reader, new java.io.PrintStream(text, true));
        return text.toString();
    }
}
