package io.tandem.journal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import com.code_intelligence.jazzer.junit.FuzzTest;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/** The journal record's wire format: what it carries, and every way a received one can be wrong. */
class JournalRecordTest
{
    private final JournalRecord record = new JournalRecord();
    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[JournalRecord.HEADER_LENGTH + JournalRecord.MAX_PAYLOAD + 64]);

    private int encodeSample()
    {
        return record.encode(buffer, 0, JournalRecord.PUT, JournalRecord.FLAG_SNAPSHOT, 3, 42, 7, 1234, 99_000_000L,
            "call-1@host".getBytes(StandardCharsets.UTF_8), new byte[] {1, 2, 3});
    }

    @Test
    void carriesEveryField()
    {
        final int length = encodeSample();
        assertEquals(JournalRecord.HEADER_LENGTH + 11 + 3, length);
        assertNull(record.wrap(buffer, 0, length));
        assertEquals(JournalRecord.PUT, record.type());
        assertTrue(record.isSnapshot());
        assertEquals(3, record.table());
        assertEquals(42, record.cluster());
        assertEquals(7, record.epoch());
        assertEquals(1234, record.sequence());
        assertEquals(99_000_000L, record.timestampNs());
        assertArrayEquals("call-1@host".getBytes(StandardCharsets.UTF_8), record.key());
        assertArrayEquals(new byte[] {1, 2, 3}, record.value());
    }

    @Test
    void malformedRecordsSayWhatIsWrong()
    {
        final int length = encodeSample();
        assertEquals(JournalRecord.Defect.TRUNCATED, record.wrap(buffer, 0, 10), "shorter than a header");
        assertEquals(JournalRecord.Defect.TRUNCATED, record.wrap(buffer, 0, length - 1), "cut in the value");
        assertEquals(JournalRecord.Defect.BAD_LENGTH, record.wrap(buffer, 0, length + 1), "trailing bytes");

        buffer.putByte(length - 1, (byte)9); // one bit of the value changed on the way
        assertEquals(JournalRecord.Defect.BAD_CHECKSUM, record.wrap(buffer, 0, length));
        encodeSample();
        buffer.putLong(24, 1235); // a sequence number altered
        assertEquals(JournalRecord.Defect.BAD_CHECKSUM, record.wrap(buffer, 0, length));

        encodeSample();
        buffer.putInt(0, 0x12345678);
        assertEquals(JournalRecord.Defect.BAD_MAGIC, record.wrap(buffer, 0, length));
        encodeSample();
        buffer.putByte(4, (byte)77);
        assertEquals(JournalRecord.Defect.UNKNOWN_TYPE, record.wrap(buffer, 0, length));
        encodeSample();
        buffer.putInt(12, -1); // negative key length
        assertEquals(JournalRecord.Defect.BAD_LENGTH, record.wrap(buffer, 0, length));
        encodeSample();
        buffer.putInt(40, Integer.MAX_VALUE); // value length overflowing the sum
        assertEquals(JournalRecord.Defect.BAD_LENGTH, record.wrap(buffer, 0, length));
        encodeSample();
        buffer.putShort(6, (short)-5);
        assertEquals(JournalRecord.Defect.BAD_LENGTH, record.wrap(buffer, 0, length), "a negative table id");
    }

    @Test
    void tooLargeARecordIsNotEncoded()
    {
        assertThrows(IllegalArgumentException.class, () -> record.encode(buffer, 0, JournalRecord.PUT, (byte)0, 1, 1, 1, 1, 0,
            new byte[10], new byte[JournalRecord.MAX_PAYLOAD]));
    }

    /** Any bytes at all: refused with a reason, or a record whose fields can all be read. Never an exception. */
    @FuzzTest(maxDuration = "10s")
    void anyBytesAreARecordOrADefect(final byte[] data)
    {
        final UnsafeBuffer in = new UnsafeBuffer(data);
        if (record.wrap(in, 0, data.length) == null)
        {
            record.type();
            record.table();
            record.epoch();
            assertEquals(data.length, JournalRecord.HEADER_LENGTH + record.key().length + record.value().length);
        }
    }
}
