package io.tandem.media.control;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import io.tandem.media.stats.MediaCounters;

/**
 * One ng message in the datagram format ({@code <cookie> <bencode or JSON dictionary>}) turned into its reply in
 * the same format: the UDP socket and HTTP's {@code POST /ng} share it. A JSON request gets a JSON reply, as from
 * rtpengine. Malformed messages get an error reply and are counted.
 */
final class NgMessage
{
    /** A cookie longer than this is not one. */
    static final int MAX_COOKIE = 256;

    private NgMessage()
    {
    }

    /** Where the space after the cookie is, among the first {@code length} bytes; -1 if not within a cookie's length. */
    static int cookieEnd(final byte[] bytes, final int length)
    {
        for (int i = 0; i < Math.min(length, MAX_COOKIE + 1); i++)
        {
            if (bytes[i] == ' ')
            {
                return i;
            }
        }
        return -1;
    }

    /**
     * @param bodyOffset where the dictionary starts in {@code bytes} (after the cookie's space)
     * @param tooLong    the message was cut: answer "Message too long" without decoding
     * @return the reply, cookie included
     */
    static byte[] reply(
        final NgCommands commands,
        final MediaCounters counters,
        final String cookie,
        final byte[] bytes,
        final int bodyOffset,
        final boolean tooLong)
    {
        if (tooLong)
        {
            counters.ngMalformed.incrementRelease();
            return withCookie(cookie, Bencode.encode(NgCommands.error("Message too long")));
        }
        if (bodyOffset < bytes.length && bytes[bodyOffset] == '{')
        {
            return withCookie(cookie, Json.encode(decodeJsonAndExecute(commands, counters, bytes, bodyOffset))
                .getBytes(StandardCharsets.UTF_8));
        }
        return withCookie(cookie, Bencode.encode(decodeAndExecute(commands, counters, bytes, bodyOffset)));
    }

    /** A decoding of the message's dictionary that may fail with the reason. */
    @FunctionalInterface
    private interface Decoding
    {
        Object decode() throws BencodeException;
    }

    private static Map<String, Object> decodeAndExecute(
        final NgCommands commands, final MediaCounters counters, final byte[] bytes, final int offset)
    {
        return execute(commands, counters, () -> Bencode.decode(bytes, offset, bytes.length - offset),
            "bencode dictionary", "a bencode dictionary");
    }

    private static Map<String, Object> decodeJsonAndExecute(
        final NgCommands commands, final MediaCounters counters, final byte[] bytes, final int offset)
    {
        return execute(commands, counters,
            () -> Json.decode(new String(bytes, offset, bytes.length - offset, StandardCharsets.UTF_8)),
            "JSON dictionary", "a JSON object");
    }

    private static Map<String, Object> execute(
        final NgCommands commands, final MediaCounters counters, final Decoding decoding, final String what,
        final String mustBe)
    {
        final Object decoded;
        try
        {
            decoded = decoding.decode();
        }
        catch (final BencodeException ex)
        {
            counters.ngMalformed.incrementRelease();
            return NgCommands.error("Could not decode " + what + ": " + ex.getMessage());
        }
        return execute(commands, counters, decoded, mustBe);
    }

    /**
     * Run a decoded message: a dictionary is a command; anything else gets an error reply saying the message is
     * not {@code mustBe}, and is counted as malformed.
     */
    @SuppressWarnings("unchecked")
    static Map<String, Object> execute(
        final NgCommands commands, final MediaCounters counters, final Object decoded, final String mustBe)
    {
        if (!(decoded instanceof Map<?, ?>))
        {
            counters.ngMalformed.incrementRelease();
            return NgCommands.error("Message is not " + mustBe);
        }
        return commands.execute((Map<String, Object>)decoded);
    }

    static byte[] withCookie(final String cookie, final byte[] body)
    {
        final byte[] prefix = (cookie + " ").getBytes(StandardCharsets.ISO_8859_1);
        final byte[] out = new byte[prefix.length + body.length];
        System.arraycopy(prefix, 0, out, 0, prefix.length);
        System.arraycopy(body, 0, out, prefix.length, body.length);
        return out;
    }
}
