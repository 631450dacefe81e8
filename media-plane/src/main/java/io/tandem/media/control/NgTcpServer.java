package io.tandem.media.control;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

import io.tandem.media.stats.MediaCounters;
import io.tandem.ng.Bencode;
import io.tandem.ng.BencodeException;
import io.tandem.ng.Json;
import io.tandem.ng.JsonException;
import io.tandem.ng.NgDatagram;

/**
 * The ng control protocol over TCP: on each connection, messages follow one another as {@code <cookie> <bencode>}
 * (or {@code <cookie> <JSON object>}) with no other framing; the end of the dictionary ends the message, and each
 * reply is written back on the same connection, in the request's encoding. Only sources in the allowed networks are accepted. One virtual thread per connection.
 */
public final class NgTcpServer extends NgConnectionServer
{
    private static final int MAX_BUFFERED = NgServer.MAX_MESSAGE + 1024;

    public NgTcpServer(final NgContext ctx, final NgCommands commands, final MediaCounters counters)
    {
        super(ctx, commands, counters, ctx.listenTcpAddress(), "tandem-ng-tcp");
        start();
    }

    @Override
    protected void serve(final Socket socket) throws IOException
    {
        byte[] buffer = new byte[4096];
        int filled = 0;
        try (InputStream in = socket.getInputStream(); OutputStream out = socket.getOutputStream())
        {
            while (running)
            {
                readTimeout(socket, filled > 0);
                final int read = in.read(buffer, filled, buffer.length - filled);
                if (read < 0)
                {
                    return;
                }
                filled += read;
                int consumed;
                try
                {
                    while ((consumed = handleOne(buffer, filled, out)) > 0)
                    {
                        System.arraycopy(buffer, consumed, buffer, 0, filled - consumed);
                        filled -= consumed;
                    }
                }
                finally
                {
                    commands.afterReply(); // the replies have gone: now the relay may take the calls' changes
                }
                if (consumed < 0)
                {
                    return; // malformed beyond recovery: the reply (if any) is written, the connection closed
                }
                if (filled == buffer.length)
                {
                    if (buffer.length >= MAX_BUFFERED)
                    {
                        counters.ngMalformed.increment();
                        return;
                    }
                    buffer = Arrays.copyOf(buffer, Math.min(buffer.length * 2, MAX_BUFFERED));
                }
            }
        }
    }

    /**
     * Handle the first complete message in the buffer. @return the bytes it took, 0 if it is not complete yet,
     * or -1 if the stream cannot be read any further.
     */
    int handleOne(final byte[] buffer, final int filled, final OutputStream out) throws IOException
    {
        final int space = NgDatagram.cookieEnd(buffer, filled);
        if (space < 0)
        {
            if (filled > NgDatagram.MAX_COOKIE)
            {
                counters.ngMalformed.increment();
                return -1;
            }
            return 0;
        }
        if (space == 0)
        {
            counters.ngMalformed.increment();
            return -1;
        }
        final String cookie = new String(buffer, 0, space, StandardCharsets.ISO_8859_1);
        if (space + 1 < filled && buffer[space + 1] == '{')
        {
            return handleJson(cookie, buffer, space + 1, filled, out);
        }
        final Bencode.Prefix message;
        try
        {
            message = Bencode.decodePrefix(buffer, space + 1, filled - space - 1);
        }
        catch (final BencodeException ex)
        {
            if (ex.isTruncated())
            {
                return 0;
            }
            counters.ngMalformed.increment();
            write(out, cookie, NgCommands.error("Could not decode bencode dictionary: " + ex.getMessage()));
            return -1;
        }
        write(out, cookie, NgMessage.execute(commands, counters, message.value(), "a bencode dictionary"));
        return space + 1 + message.length();
    }

    /** A JSON message ends where its outermost object closes (braces inside strings do not count). */
    private int handleJson(final String cookie, final byte[] buffer, final int start, final int filled,
        final OutputStream out) throws IOException
    {
        int depth = 0;
        boolean inString = false;
        int end = -1;
        for (int i = start; i < filled && end < 0; i++)
        {
            final byte b = buffer[i];
            if (inString)
            {
                if (b == '\\')
                {
                    i++;
                }
                else if (b == '"')
                {
                    inString = false;
                }
            }
            else if (b == '"')
            {
                inString = true;
            }
            else if (b == '{' || b == '[')
            {
                depth++;
            }
            else if ((b == '}' || b == ']') && --depth == 0)
            {
                end = i;
            }
        }
        if (end < 0)
        {
            return 0; // not complete yet
        }
        final Object decoded;
        try
        {
            decoded = Json.decode(new String(buffer, start, end + 1 - start, StandardCharsets.UTF_8));
        }
        catch (final JsonException ex)
        {
            counters.ngMalformed.increment();
            writeJson(out, cookie, NgCommands.error("Could not decode JSON dictionary: " + ex.getMessage()));
            return -1;
        }
        writeJson(out, cookie, NgMessage.execute(commands, counters, decoded, "a JSON object"));
        return end + 1;
    }

    private static void writeJson(final OutputStream out, final String cookie, final Map<String, Object> reply)
        throws IOException
    {
        out.write(NgDatagram.withCookie(cookie, Json.encode(reply).getBytes(StandardCharsets.UTF_8)));
        out.flush();
    }

    private static void write(final OutputStream out, final String cookie, final Map<String, Object> reply)
        throws IOException
    {
        out.write(NgDatagram.withCookie(cookie, Bencode.encode(reply)));
        out.flush();
    }
}
