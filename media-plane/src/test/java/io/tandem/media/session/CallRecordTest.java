package io.tandem.media.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.List;

import io.tandem.media.relay.LatchMode;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Test;

/** The persisted call record: round trips, and a corrupt sessions-file entry is a clear error, never a crash. */
class CallRecordTest
{
    private static final CallRecord RECORD = new CallRecord("call-1@example.com", List.of(
        new CallRecord.MonologueRecord("alice", "bob", List.of(new CallRecord.StreamRecord("external", 30000,
            StreamSpec.of(new InetSocketAddress("192.0.2.10", 4000)).withLatch(LatchMode.DELAYED).withTranscode("PCMU>PCMA"),
            new InetSocketAddress("198.51.100.7", 61000), null))),
        new CallRecord.MonologueRecord("bob", "alice", List.of(new CallRecord.StreamRecord("internal", 30002,
            new StreamSpec(new InetSocketAddress("2001:db8::1", 5000), null, true, null, false, true, null, "video", "RTP/AVPF", "96 97", false)))),
        new CallRecord.MonologueRecord("", null, List.of(new CallRecord.StreamRecord("internal", 30004, null)))));

    @Test
    void roundTrips()
    {
        assertEquals(RECORD, CallRecord.decode(RECORD.encode()));
    }

    /** An answer names the party the offer left unnamed: the same call to a mirror, updated in place. */
    @Test
    void theSameStreamsUnderNewTagsAreTheSameCallButNotOtherPortsOrPairs()
    {
        final CallRecord offered = twoParty("alice", "", 30000, 30002);
        assertTrue(offered.sameStreamsAs(twoParty("alice", "bob", 30000, 30002)), "the answer's tag");
        assertTrue(offered.sameStreamsAs(offered));
        assertFalse(offered.sameStreamsAs(twoParty("alice", "bob", 30000, 30004)), "another port");
        assertFalse(offered.sameStreamsAs(RECORD), "another shape");
        final CallRecord unpaired = new CallRecord("c", List.of(
            new CallRecord.MonologueRecord("alice", null, List.of(stream(30000))),
            new CallRecord.MonologueRecord("bob", null, List.of(stream(30002)))));
        assertFalse(offered.sameStreamsAs(unpaired), "who talks to whom changed");
        final CallRecord noStreams = new CallRecord("c", List.of(new CallRecord.MonologueRecord("a", null, List.of()),
            new CallRecord.MonologueRecord("b", null, List.of())));
        assertFalse(noStreams.sameStreamsAs(noStreams), "parties told apart only by their tags: rebuilt");
    }

    private static CallRecord twoParty(final String from, final String to, final int fromPort, final int toPort)
    {
        return new CallRecord("c", List.of(new CallRecord.MonologueRecord(from, to, List.of(stream(fromPort))),
            new CallRecord.MonologueRecord(to, from, List.of(stream(toPort)))));
    }

    private static CallRecord.StreamRecord stream(final int port)
    {
        return new CallRecord.StreamRecord("external", port, StreamSpec.of(new InetSocketAddress("192.0.2.10", port)));
    }

    @Test
    void aRecordOfThePreviousVersionStillReadsWithoutLearnedAddresses()
    {
        final CallRecord decoded = CallRecord.decode(RECORD.encode(5));
        final CallRecord.StreamRecord alice = decoded.monologues().get(0).streams().get(0);
        assertEquals(null, alice.rtpLearned());
        final CallRecord.StreamRecord expected = RECORD.monologues().get(0).streams().get(0);
        assertEquals(new CallRecord.StreamRecord(expected.interfaceName(), expected.localRtpPort(), expected.spec()), alice);
        assertEquals(RECORD.monologues().get(1), decoded.monologues().get(1));
    }

    @Test
    void corruptRecordsAreRejectedWithAReason()
    {
        final byte[] encoded = RECORD.encode();
        assertThrows(IllegalArgumentException.class, () -> CallRecord.decode(new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> CallRecord.decode(new byte[] {99}), "unknown version");
        for (int cut = 1; cut < encoded.length; cut++)
        {
            final byte[] truncated = Arrays.copyOf(encoded, cut);
            assertThrows(IllegalArgumentException.class, () -> CallRecord.decode(truncated), "cut at " + cut);
        }
        final byte[] badLatch = RECORD.encode();
        // version, call-id, monologue count, tag, subscriber, stream count, interface, port, has-spec, rtp, rtcp,
        // rtcp-mux
        final int latchOffset =
            1 + (2 + 18) + 2 + (2 + 5) + (1 + 2 + 3) + 2 + (2 + 8) + 2 + 1 + (1 + 4 + 2) + (1 + 4 + 2) + 1;
        assertEquals(LatchMode.DELAYED.ordinal(), badLatch[latchOffset]);
        badLatch[latchOffset] = 42;
        assertThrows(IllegalArgumentException.class, () -> CallRecord.decode(badLatch), "latch mode out of range");
    }

    @FuzzTest(maxDuration = "30s")
    void anyBytesDecodeToARecordOrAClearError(final FuzzedDataProvider data)
    {
        final byte[] bytes = data.consumeRemainingAsBytes();
        final CallRecord record;
        try
        {
            record = CallRecord.decode(bytes);
        }
        catch (final IllegalArgumentException expected)
        {
            return;
        }
        assertEquals(record, CallRecord.decode(record.encode()), "what decodes must round-trip");
        // a mirror compares what it receives with the call it holds: any record that decodes compares, without
        // throwing, and is either the same call as itself or one it rebuilds (parties it cannot tell apart)
        record.sameStreamsAs(RECORD);
        RECORD.sameStreamsAs(record);
        record.sameStreamsAs(record);
    }

    /** Records written by earlier versions name latch modes by these codes; reordering the enum must not move them. */
    @Test
    void latchModesHaveFixedCodes() throws Exception
    {
        assertEquals(0, CallRecord.latchCode(io.tandem.media.relay.LatchMode.OFF));
        assertEquals(1, CallRecord.latchCode(io.tandem.media.relay.LatchMode.IMMEDIATE));
        assertEquals(2, CallRecord.latchCode(io.tandem.media.relay.LatchMode.DELAYED));
        assertEquals(3, CallRecord.latchCode(io.tandem.media.relay.LatchMode.HEURISTIC));
        for (final io.tandem.media.relay.LatchMode mode : io.tandem.media.relay.LatchMode.values())
        {
            assertEquals(mode, CallRecord.latchMode(CallRecord.latchCode(mode)));
        }
        assertThrows(java.io.IOException.class, () -> CallRecord.latchMode(9));
    }
}
