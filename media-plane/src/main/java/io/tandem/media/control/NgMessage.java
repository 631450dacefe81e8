package io.tandem.media.control;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import io.tandem.media.stats.MediaCounters;
import io.tandem.ng.Bencode;
import io.tandem.ng.Json;
import io.tandem.ng.NgDatagram;
import io.tandem.ng.NgWireException;

/**
 * One ng message in the datagram format ({@code <cookie> <bencode or JSON dictionary>}) turned into its reply in
 * the same format: the UDP socket and HTTP's {@code POST /ng} share it. A JSON request gets a JSON reply, as from
 * rtpengine. Malformed messages get an error reply and are counted.
 */
final class NgMessage
{
    private NgMessage()
    {
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
        try
        {
            return replyBeforeWake(commands, counters, cookie, bytes, bodyOffset, tooLong);
        }
        finally
        {
            commands.afterReply();
        }
    }

    /** {@link #reply} without waking the relay: the caller sends the reply, then calls {@code commands.afterReply()}. */
    static byte[] replyBeforeWake(
        final NgCommands commands,
        final MediaCounters counters,
        final String cookie,
        final byte[] bytes,
        final int bodyOffset,
        final boolean tooLong)
    {
        if (tooLong)
        {
            counters.ngMalformed.increment();
            return NgDatagram.withCookie(cookie, Bencode.encode(NgCommands.error("Message too long")));
        }
        if (bodyOffset < bytes.length && bytes[bodyOffset] == '{')
        {
            return NgDatagram.withCookie(cookie, Json.encode(decodeJsonAndExecute(commands, counters, bytes, bodyOffset))
                .getBytes(StandardCharsets.UTF_8));
        }
        return NgDatagram.withCookie(cookie, Bencode.encode(decodeAndExecute(commands, counters, bytes, bodyOffset)));
    }

    /** A decoding of the message's dictionary that may fail with the reason. */
    @FunctionalInterface
    private interface Decoding
    {
        Object decode() throws NgWireException;
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
        catch (final NgWireException ex)
        {
            counters.ngMalformed.increment();
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
            counters.ngMalformed.increment();
            return NgCommands.error("Message is not " + mustBe);
        }
        return commands.executeBeforeReply((Map<String, Object>)decoded);
    }
}
