package io.tandem.journal;

import java.util.zip.CRC32C;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * One journal record on the wire, a flyweight over a buffer (little-endian, as Aeron's own headers):
 * <pre>
 *   0  int   magic "TJR1"           24 long  sequence (per writer and epoch; snapshot records carry the cut's)
 *   4  byte  type                   32 long  writer's wall clock, epoch nanoseconds (for lag)
 *   5  byte  flags (SNAPSHOT)       40 int   value length
 *   6  short table id               44 int   CRC-32C of the record with this field zero
 *   8  int   cluster id             48       key bytes, then value bytes
 *  12  int   key length
 *  16  long  epoch
 * </pre>
 * {@link #wrap} checks everything a receiver must trust (magic, type, lengths against the bytes received, the
 * checksum) and says what was wrong; a record that fails is refused and counted, never applied.
 */
public final class JournalRecord
{
    public static final int MAGIC = 0x3152_4A54; // "TJR1" read little-endian
    public static final int HEADER_LENGTH = 48;
    /** The largest key plus value a record carries. */
    public static final int MAX_PAYLOAD = 60 * 1024;

    public static final byte PUT = 1;
    public static final byte REMOVE = 2;
    public static final byte SNAPSHOT_BEGIN = 3;
    public static final byte SNAPSHOT_END = 4;
    public static final byte HEARTBEAT = 5;
    /** From a mirror to the active: send me a snapshot, then the live journal. */
    public static final byte SNAPSHOT_REQUEST = 6;

    /** Set on the PUT records that make up a snapshot. */
    public static final byte FLAG_SNAPSHOT = 1;

    private static final int TYPE = 4;
    private static final int FLAGS = 5;
    private static final int TABLE = 6;
    private static final int CLUSTER = 8;
    private static final int KEY_LENGTH = 12;
    private static final int EPOCH = 16;
    private static final int SEQUENCE = 24;
    private static final int TIMESTAMP = 32;
    private static final int VALUE_LENGTH = 40;
    private static final int CHECKSUM = 44;

    private final CRC32C crc = new CRC32C();
    private final byte[] scratch = new byte[HEADER_LENGTH + MAX_PAYLOAD];
    private DirectBuffer buffer;
    private int offset;

    /** Why a received record was refused. */
    public enum Defect
    {
        TRUNCATED, BAD_MAGIC, UNKNOWN_TYPE, BAD_LENGTH, BAD_CHECKSUM
    }

    /**
     * Encode a record into {@code out} at {@code at}. @return its length.
     * @throws IllegalArgumentException if key and value exceed {@link #MAX_PAYLOAD}
     */
    public int encode(final MutableDirectBuffer out, final int at, final byte type, final byte flags, final int table,
        final int cluster, final long epoch, final long sequence, final long timestampNs, final byte[] key,
        final byte[] value)
    {
        final int keyLength = key == null ? 0 : key.length;
        final int valueLength = value == null ? 0 : value.length;
        if (keyLength + valueLength > MAX_PAYLOAD || table < 0 || table > Short.MAX_VALUE)
        {
            throw new IllegalArgumentException("journal record too large (" + (keyLength + valueLength) + " bytes) or bad table");
        }
        out.putInt(at, MAGIC);
        out.putByte(at + TYPE, type);
        out.putByte(at + FLAGS, flags);
        out.putShort(at + TABLE, (short)table);
        out.putInt(at + CLUSTER, cluster);
        out.putInt(at + KEY_LENGTH, keyLength);
        out.putLong(at + EPOCH, epoch);
        out.putLong(at + SEQUENCE, sequence);
        out.putLong(at + TIMESTAMP, timestampNs);
        out.putInt(at + VALUE_LENGTH, valueLength);
        out.putInt(at + CHECKSUM, 0);
        if (keyLength > 0)
        {
            out.putBytes(at + HEADER_LENGTH, key);
        }
        if (valueLength > 0)
        {
            out.putBytes(at + HEADER_LENGTH + keyLength, value);
        }
        final int length = HEADER_LENGTH + keyLength + valueLength;
        out.putInt(at + CHECKSUM, checksum(out, at, length));
        return length;
    }

    /** Point at a received record and check it. @return null if it can be trusted, else what is wrong. */
    public Defect wrap(final DirectBuffer in, final int at, final int length)
    {
        buffer = in;
        offset = at;
        if (length < HEADER_LENGTH)
        {
            return Defect.TRUNCATED;
        }
        if (in.getInt(at) != MAGIC)
        {
            return Defect.BAD_MAGIC;
        }
        final byte type = in.getByte(at + TYPE);
        if (type < PUT || type > SNAPSHOT_REQUEST)
        {
            return Defect.UNKNOWN_TYPE;
        }
        final int keyLength = in.getInt(at + KEY_LENGTH);
        final int valueLength = in.getInt(at + VALUE_LENGTH);
        if (keyLength < 0 || valueLength < 0 || keyLength > MAX_PAYLOAD || valueLength > MAX_PAYLOAD ||
            keyLength + valueLength > MAX_PAYLOAD || in.getShort(at + TABLE) < 0)
        {
            return Defect.BAD_LENGTH;
        }
        if (HEADER_LENGTH + keyLength + valueLength != length)
        {
            return HEADER_LENGTH + keyLength + valueLength > length ? Defect.TRUNCATED : Defect.BAD_LENGTH;
        }
        final int stored = in.getInt(at + CHECKSUM);
        in.getBytes(at, scratch, 0, length);
        scratch[CHECKSUM] = 0;
        scratch[CHECKSUM + 1] = 0;
        scratch[CHECKSUM + 2] = 0;
        scratch[CHECKSUM + 3] = 0;
        crc.reset();
        crc.update(scratch, 0, length);
        return (int)crc.getValue() == stored ? null : Defect.BAD_CHECKSUM;
    }

    private int checksum(final DirectBuffer out, final int at, final int length)
    {
        out.getBytes(at, scratch, 0, length);
        crc.reset();
        crc.update(scratch, 0, length);
        return (int)crc.getValue();
    }

    /** The type byte of a fragment, unchecked (0 if too short to hold one): for bookkeeping before {@link #wrap}. */
    public static byte typeOf(final DirectBuffer in, final int at, final int length)
    {
        return length > TYPE ? in.getByte(at + TYPE) : 0;
    }

    public byte type()
    {
        return buffer.getByte(offset + TYPE);
    }

    public byte flags()
    {
        return buffer.getByte(offset + FLAGS);
    }

    public boolean isSnapshot()
    {
        return (buffer.getByte(offset + FLAGS) & FLAG_SNAPSHOT) != 0;
    }

    public int table()
    {
        return buffer.getShort(offset + TABLE);
    }

    public int cluster()
    {
        return buffer.getInt(offset + CLUSTER);
    }

    public long epoch()
    {
        return buffer.getLong(offset + EPOCH);
    }

    public long sequence()
    {
        return buffer.getLong(offset + SEQUENCE);
    }

    public long timestampNs()
    {
        return buffer.getLong(offset + TIMESTAMP);
    }

    /** A copy of the key. */
    public byte[] key()
    {
        final byte[] key = new byte[buffer.getInt(offset + KEY_LENGTH)];
        buffer.getBytes(offset + HEADER_LENGTH, key);
        return key;
    }

    /** A copy of the value. */
    public byte[] value()
    {
        final int keyLength = buffer.getInt(offset + KEY_LENGTH);
        final byte[] value = new byte[buffer.getInt(offset + VALUE_LENGTH)];
        buffer.getBytes(offset + HEADER_LENGTH + keyLength, value);
        return value;
    }
}
