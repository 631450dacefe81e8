package io.tandem.ng;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Bencode as rtpengine's ng protocol uses it. Decoded values are {@code String} (byte strings, one char per byte,
 * ISO-8859-1, so SDP and any other payload survive byte for byte), {@code Long}, {@code List<Object>} and
 * {@code Map<String, Object>} (insertion order kept; keys are accepted in any order, as rtpengine and its
 * clients do not sort them). Strict limits on nesting, string length and integer length keep a hostile
 * message from costing more than its own size.
 */
public final class Bencode
{
    public static final int MAX_DEPTH = 16;
    private static final int MAX_INTEGER_DIGITS = 19;

    private final byte[] data;
    private final int end;
    private int position;

    private Bencode(final byte[] data, final int offset, final int length)
    {
        this.data = data;
        this.position = offset;
        this.end = offset + length;
    }

    /** Decode exactly one value spanning {@code length} bytes from {@code offset}. */
    public static Object decode(final byte[] data, final int offset, final int length) throws BencodeException
    {
        if (offset < 0 || length < 0 || offset + length > data.length)
        {
            throw new IllegalArgumentException("range outside the array");
        }
        final Bencode decoder = new Bencode(data, offset, length);
        final Object value = decoder.value(0);
        if (decoder.position != decoder.end)
        {
            throw new BencodeException("trailing data at offset " + (decoder.position - offset));
        }
        return value;
    }

    /** A value decoded from the front of a buffer, and how many bytes it took. */
    public record Prefix(Object value, int length)
    {
    }

    /**
     * Decode the one value that starts at {@code offset}, ignoring what follows it (for messages on a stream).
     * @throws BencodeException with {@link BencodeException#isTruncated()} when more bytes could complete it.
     */
    public static Prefix decodePrefix(final byte[] data, final int offset, final int length) throws BencodeException
    {
        final Bencode decoder = new Bencode(data, offset, length);
        final Object value = decoder.value(0);
        return new Prefix(value, decoder.position - offset);
    }

    public static Object decode(final byte[] data) throws BencodeException
    {
        return decode(data, 0, data.length);
    }

    private Object value(final int depth) throws BencodeException
    {
        if (position >= end)
        {
            throw BencodeException.truncated("truncated: value expected at offset " + position);
        }
        final byte b = data[position];
        if (b == 'd' || b == 'l')
        {
            if (depth >= MAX_DEPTH)
            {
                throw new BencodeException("nested deeper than " + MAX_DEPTH);
            }
            position++;
            return b == 'd' ? dictionary(depth + 1) : list(depth + 1);
        }
        if (b == 'i')
        {
            position++;
            return integer();
        }
        if (b >= '0' && b <= '9')
        {
            return string();
        }
        throw new BencodeException("unexpected byte 0x" + Integer.toHexString(b & 0xFF) + " at offset " + position);
    }

    private Map<String, Object> dictionary(final int depth) throws BencodeException
    {
        final Map<String, Object> dictionary = new LinkedHashMap<>();
        while (true)
        {
            if (position >= end)
            {
                throw BencodeException.truncated("truncated: dictionary not closed");
            }
            if (data[position] == 'e')
            {
                position++;
                return dictionary;
            }
            if (data[position] < '0' || data[position] > '9')
            {
                throw new BencodeException("dictionary key must be a string at offset " + position);
            }
            final String key = string();
            final Object value = value(depth);
            if (dictionary.putIfAbsent(key, value) != null)
            {
                throw new BencodeException("duplicate dictionary key '" + key + "'");
            }
        }
    }

    private List<Object> list(final int depth) throws BencodeException
    {
        final List<Object> list = new ArrayList<>();
        while (true)
        {
            if (position >= end)
            {
                throw BencodeException.truncated("truncated: list not closed");
            }
            if (data[position] == 'e')
            {
                position++;
                return list;
            }
            list.add(value(depth));
        }
    }

    private Long integer() throws BencodeException
    {
        final int start = position;
        boolean negative = false;
        if (position < end && data[position] == '-')
        {
            negative = true;
            position++;
        }
        long value = 0;
        int digits = 0;
        while (position < end && data[position] != 'e')
        {
            final byte b = data[position++];
            if (b < '0' || b > '9')
            {
                throw new BencodeException("bad integer at offset " + start);
            }
            if (++digits > MAX_INTEGER_DIGITS)
            {
                throw new BencodeException("integer too long at offset " + start);
            }
            try
            {
                value = Math.addExact(Math.multiplyExact(value, 10), b - '0');
            }
            catch (final ArithmeticException ex)
            {
                throw new BencodeException("integer out of range at offset " + start);
            }
        }
        if (position >= end)
        {
            throw BencodeException.truncated("truncated: integer not closed");
        }
        position++; // 'e'
        if (digits == 0 || (negative && value == 0))
        {
            throw new BencodeException("bad integer at offset " + start);
        }
        return negative ? -value : value;
    }

    private String string() throws BencodeException
    {
        final int start = position;
        long length = 0;
        while (position < end && data[position] != ':')
        {
            final byte b = data[position++];
            if (b < '0' || b > '9' || position - start > 10)
            {
                throw new BencodeException("bad string length at offset " + start);
            }
            length = length * 10 + (b - '0');
        }
        if (position >= end)
        {
            throw BencodeException.truncated("truncated: string length not closed");
        }
        position++; // ':'
        if (length > end - position)
        {
            throw BencodeException.truncated("string of " + length + " bytes at offset " + start + " runs past the end");
        }
        final String value = new String(data, position, (int)length, StandardCharsets.ISO_8859_1);
        position += (int)length;
        return value;
    }

    /** Encode a value made of String, byte[], Number (integral), List and Map with String keys. */
    public static byte[] encode(final Object value)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        encode(value, out);
        return out.toByteArray();
    }

    private static void encode(final Object value, final ByteArrayOutputStream out)
    {
        switch (value)
        {
            case String s -> writeString(s.getBytes(StandardCharsets.ISO_8859_1), out);
            case byte[] bytes -> writeString(bytes, out);
            case Long l -> writeAscii("i" + l + "e", out);
            case Integer i -> writeAscii("i" + i + "e", out);
            case List<?> list ->
            {
                out.write('l');
                for (final Object item : list)
                {
                    encode(item, out);
                }
                out.write('e');
            }
            case Map<?, ?> map ->
            {
                out.write('d');
                for (final Map.Entry<?, ?> entry : map.entrySet())
                {
                    writeString(((String)entry.getKey()).getBytes(StandardCharsets.ISO_8859_1), out);
                    encode(entry.getValue(), out);
                }
                out.write('e');
            }
            default -> throw new IllegalArgumentException("cannot bencode " + value.getClass().getName());
        }
    }

    private static void writeString(final byte[] bytes, final ByteArrayOutputStream out)
    {
        writeAscii(bytes.length + ":", out);
        out.write(bytes, 0, bytes.length);
    }

    private static void writeAscii(final String ascii, final ByteArrayOutputStream out)
    {
        final byte[] bytes = ascii.getBytes(StandardCharsets.US_ASCII);
        out.write(bytes, 0, bytes.length);
    }
}
