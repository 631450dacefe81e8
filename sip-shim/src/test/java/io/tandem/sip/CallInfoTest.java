package io.tandem.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * The call info record as the journal carries it: what goes in comes out, and a record that is not one (cut short,
 * another version, a field longer than any of ours, bytes after its end) is refused with a reason, never read as a
 * call. Inputs under CallInfoTestInputs/ run as regression tests in every build; `JAZZER_FUZZ=1` fuzzes.
 */
class CallInfoTest
{
    private static final CallInfo CALL = new CallInfo("3c26700f3fb8-ltl4mbitp2vv@snom360-000413230A07", "as6d58ad0d",
        null, "10.0.0.9:5060;udp", 2, 1, CallInfo.State.INVITING, 1_796_000_000_000L);

    @Test
    void aRecordReadsBackAsItWasWritten()
    {
        assertEquals(CALL, CallInfo.decode(CALL.encode()));
        final CallInfo answered = CALL.with(CallInfo.State.CONFIRMED, "1e8b-9aef", 1_796_000_043_200L);
        assertEquals(answered, CallInfo.decode(answered.encode()));
        assertEquals("1e8b-9aef", answered.toTag());
        assertEquals(CALL.fromTag(), answered.fromTag());
        final CallInfo alternate = answered.redirected("10.0.0.10:5060;tcp", 3);
        assertEquals(alternate, CallInfo.decode(alternate.encode()));
        assertEquals(3, alternate.attempt());
    }

    @Test
    void aCallsFromTagDecidesWhetherARequestBelongsToIt()
    {
        assertTrue(CALL.matches("as6d58ad0d"));
        assertTrue(CALL.matches(null));
        assertEquals(false, CALL.matches("another"));
    }

    @Test
    void malformedRecordsAreRefusedWithAReason()
    {
        final byte[] good = CALL.encode();
        assertRefused(new byte[0], "cut short");
        assertRefused(Arrays.copyOf(good, good.length - 1), "cut short");
        assertRefused(Arrays.copyOf(good, good.length + 1), "after its end");
        final byte[] version = good.clone();
        version[0] = 9;
        assertRefused(version, "unknown version");
        final byte[] state = good.clone();
        state[1] = 0;
        assertRefused(state, "unknown state");
        final byte[] negative = good.clone();
        ByteBuffer.wrap(negative).putShort(CallInfo.HEADER, (short)-2); // the Call-ID's length
        assertRefused(negative, "field of length");
        final byte[] oversized = good.clone();
        ByteBuffer.wrap(oversized).putShort(CallInfo.HEADER, (short)(CallInfo.MAX_FIELD + 1));
        assertRefused(oversized, "field of length");
        final byte[] attempt = good.clone();
        ByteBuffer.wrap(attempt).putShort(2, (short)-1);
        assertRefused(attempt, "attempt out of range");
        final byte[] noCallId = good.clone();
        ByteBuffer.wrap(noCallId).putShort(CallInfo.HEADER, (short)-1);
        assertThrows(IllegalArgumentException.class, () -> CallInfo.decode(noCallId));
    }

    @Test
    void aFieldLongerThanAnyOfOursIsNotWritten()
    {
        final CallInfo huge = new CallInfo("x".repeat(CallInfo.MAX_FIELD + 1), null, null, "10.0.0.9:5060;udp", 0,
            -1, CallInfo.State.INVITING, 0);
        assertThrows(IllegalArgumentException.class, huge::encode);
    }

    private static void assertRefused(final byte[] record, final String reason)
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> CallInfo.decode(record));
        assertTrue(ex.getMessage().contains(reason), ex.getMessage());
    }

    @FuzzTest(maxDuration = "30s")
    void anyRecordIsReadOrRefused(final FuzzedDataProvider data)
    {
        final byte[] record = data.consumeRemainingAsBytes();
        try
        {
            final CallInfo info = CallInfo.decode(record);
            assertTrue(Arrays.equals(record, info.encode()), "a record read is one we would write");
        }
        catch (final IllegalArgumentException ex)
        {
            // refused with its reason, as the store counts it
        }
    }
}
