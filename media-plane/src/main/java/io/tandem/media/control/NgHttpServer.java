package io.tandem.media.control;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

import io.tandem.media.stats.MediaCounters;
import io.tandem.ng.NgDatagram;
import io.tandem.ng.WebSocket;

/**
 * Tandem's HTTP interface, at the URIs rtpengine uses: {@code POST /ng} takes an ng message in the datagram format
 * (cookie, space, bencode or JSON dictionary) and answers in the same format; {@code GET /metrics} gives the
 * counters in Prometheus' text format; {@code GET /ping} answers {@code pong}. {@code /ng} is answered only for
 * sources in the ng access list (others get 403 and are counted); the other two for anyone who can reach the
 * listen address. A metrics listener ({@code --listen-metrics}) serves only those two, so they can be offered to a
 * monitoring network without {@code /ng}.
 * <p>
 * HTTP/1.1 with keep-alive, on the connection listeners' footing: at most {@code --ng-max-connections} open, a
 * request begun must be complete within the partial-message timeout (slowloris), and a connection idle between
 * requests for the HTTP idle timeout (30 s) is closed. Heads over {@value #MAX_HEAD} bytes get 431 and chunked bodies
 * 411, both counted as malformed; a body over an ng message's limit gets ng's "Message too long" and the connection
 * ends.
 */
public final class NgHttpServer extends NgConnectionServer
{
    public static final String NG_CONTENT_TYPE = "application/x-rtpengine-ng";
    static final int MAX_HEAD = WebSocket.MAX_HANDSHAKE;
    private static final long MAX_DRAIN = 1 << 20;

    private final boolean ng;

    /** The HTTP listener of {@code --listen-http}: /ng, /metrics and /ping. */
    public NgHttpServer(final NgContext ctx, final NgCommands commands, final MediaCounters counters)
    {
        this(ctx, commands, counters, ctx.listenHttpAddress(), true);
    }

    /** A listener at {@code listen}: with {@code ng} false (the metrics listener) only /metrics and /ping. */
    public NgHttpServer(final NgContext ctx, final NgCommands commands, final MediaCounters counters,
        final InetSocketAddress listen, final boolean ng)
    {
        super(ctx, commands, counters, listen, ng ? "tandem-http" : "tandem-metrics", true);
        this.ng = ng;
        start();
    }

    /** One request as read from the connection. */
    private record Request(String method, String path, boolean keepAlive, byte[] body, int consumed,
        InetSocketAddress source, boolean tooLong, long unread)
    {
    }

    @Override
    protected void serve(final Socket socket) throws IOException
    {
        try (InputStream in = socket.getInputStream(); OutputStream out = socket.getOutputStream())
        {
            final byte[] buffer = new byte[MAX_HEAD];
            int filled = 0;
            while (running)
            {
                int end;
                while ((end = WebSocket.headEnd(buffer, filled)) < 0)
                {
                    if (filled == MAX_HEAD)
                    {
                        refuse(out, 431, "Request Header Fields Too Large", "request head over " + MAX_HEAD + " bytes");
                        return;
                    }
                    // Between requests a keep-alive connection may idle a while; a request begun must be completed.
                    socket.setSoTimeout(filled > 0 ? ctx.partialMessageTimeoutMs() : ctx.httpIdleTimeoutMs());
                    final int read = readIdle(in, buffer, filled, filled == 0);
                    if (read < 0)
                    {
                        return;
                    }
                    filled += read;
                }
                final Request request = request(socket, in, out, buffer, end, filled);
                if (request == null)
                {
                    return;
                }
                // bytes after this request's body (a pipelined next request): kept for the next round
                System.arraycopy(buffer, request.consumed(), buffer, 0, filled - request.consumed());
                filled -= request.consumed();
                respond(out, request);
                if (!request.keepAlive())
                {
                    // Read what the client still sends of an oversized body (up to a bound) before closing: closed
                    // with unread bytes, the socket would reset and the client could lose the reply.
                    drain(socket, in, Math.min(request.unread(), MAX_DRAIN));
                    return;
                }
            }
        }
    }

    private static void drain(final Socket socket, final InputStream in, final long bytes) throws IOException
    {
        socket.setSoTimeout(1_000);
        final byte[] sink = new byte[8192];
        long left = bytes;
        try
        {
            int read;
            while (left > 0 && (read = in.read(sink, 0, (int)Math.min(sink.length, left))) > 0)
            {
                left -= read;
            }
        }
        catch (final SocketTimeoutException ex)
        {
            // the client stopped sending: close anyway
        }
    }

    /** A read that ends quietly when a keep-alive connection idles past its limit (not a slow request). */
    private static int readIdle(final InputStream in, final byte[] buffer, final int filled, final boolean idle)
        throws IOException
    {
        try
        {
            return in.read(buffer, filled, buffer.length - filled);
        }
        catch (final SocketTimeoutException ex)
        {
            if (idle)
            {
                return -1;
            }
            throw ex;
        }
    }

    /** A request's head: its request line and the headers this server acts on. */
    record Head(String method, String path, boolean keepAlive, long length)
    {
    }

    /** A request head refused, with the status and reason it is answered with. */
    static final class Refused extends Exception
    {
        final int status;
        final String phrase;

        Refused(final int status, final String phrase, final String reason)
        {
            super(reason, null, false, false);
            this.status = status;
            this.phrase = phrase;
        }
    }

    /**
     * Parse the head of a request, the {@code end} bytes of {@code buffer} up to and with its blank line: the request
     * line, Content-Length (0 when absent), Connection; a chunked body is refused (411), as is a line that is not an
     * HTTP/1.x request line or a Content-Length that is not a length (400).
     */
    static Head head(final byte[] buffer, final int end) throws Refused
    {
        final String[] lines = new String(buffer, 0, end, StandardCharsets.ISO_8859_1).split("\r\n");
        final String[] first = lines.length == 0 ? new String[0] : lines[0].split(" ");
        if (first.length != 3 || !first[2].startsWith("HTTP/1."))
        {
            throw new Refused(400, "Bad Request", "not an HTTP/1.x request line");
        }
        long length = 0;
        boolean keepAlive = first[2].equals("HTTP/1.1");
        for (int i = 1; i < lines.length; i++)
        {
            final int colon = lines[i].indexOf(':');
            if (colon <= 0)
            {
                continue;
            }
            final String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
            final String value = lines[i].substring(colon + 1).trim();
            switch (name)
            {
                case "content-length" ->
                {
                    try
                    {
                        length = Long.parseLong(value);
                    }
                    catch (final NumberFormatException ex)
                    {
                        length = -1;
                    }
                }
                case "transfer-encoding" -> throw new Refused(411, "Length Required", "send a Content-Length, not " +
                    value);
                case "connection" -> keepAlive = value.equalsIgnoreCase("keep-alive") ||
                    (keepAlive && !value.equalsIgnoreCase("close"));
                default -> { }
            }
        }
        if (length < 0)
        {
            throw new Refused(400, "Bad Request", "a Content-Length that is not a length");
        }
        return new Head(first[0], first[1], keepAlive, length);
    }

    /** Parse a request's head and read its body; null when it was refused (the connection then ends). */
    private Request request(final Socket socket, final InputStream in, final OutputStream out, final byte[] buffer,
        final int end, final int filled) throws IOException
    {
        final Head head;
        try
        {
            head = head(buffer, end);
        }
        catch (final Refused ex)
        {
            refuse(out, ex.status, ex.phrase, ex.getMessage());
            return null;
        }
        long length = head.length();
        boolean keepAlive = head.keepAlive();
        final boolean tooLong = length > NgServer.MAX_MESSAGE;
        final long unread = tooLong ? length - NgServer.MAX_MESSAGE - 1 : 0;
        if (tooLong)
        {
            // Read one byte more than a message may have (the cookie is at its start): the reply is ng's own
            // "Message too long", and the connection ends without reading the rest.
            length = NgServer.MAX_MESSAGE + 1;
            keepAlive = false;
        }
        final int inBuffer = (int)Math.min(length, filled - end);
        final byte[] whole = Arrays.copyOf(Arrays.copyOfRange(buffer, end, end + inBuffer), (int)length);
        int have = inBuffer;
        socket.setSoTimeout(ctx.partialMessageTimeoutMs());
        while (have < length)
        {
            final int read = in.read(whole, have, whole.length - have);
            if (read < 0)
            {
                return null;
            }
            have += read;
        }
        return new Request(head.method(), head.path(), keepAlive, whole, end + inBuffer,
            (InetSocketAddress)socket.getRemoteSocketAddress(), tooLong, unread);
    }

    private void respond(final OutputStream out, final Request request) throws IOException
    {
        final String path = request.path().contains("?") ? request.path().substring(0, request.path().indexOf('?')) :
            request.path();
        final boolean head = request.method().equals("HEAD");
        if (ng && path.equals("/ng"))
        {
            ng(out, request, head);
            return;
        }
        switch (path) // the metrics listener has no /ng: not found, as any other path
        {
            case "/metrics" -> get(out, request, "text/plain; version=0.0.4; charset=utf-8", counters.prometheusText());
            case "/ping" -> get(out, request, "text/plain", "pong");
            default -> write(out, request.keepAlive(), head, 404, "Not Found", "text/plain", text("not found"));
        }
    }

    private void ng(final OutputStream out, final Request request, final boolean head) throws IOException
    {
        // The source was allowed to connect only to reach /metrics and /ping: /ng has the ng access list.
        if (!ctx.allows(request.source().getAddress()))
        {
            counters.ngSourceRefused.increment();
            write(out, request.keepAlive(), head, 403, "Forbidden", "text/plain", text("source not allowed"));
            return;
        }
        if (!request.method().equals("POST"))
        {
            write(out, request.keepAlive(), head, 405, "Method Not Allowed", "text/plain",
                text("POST an ng message to /ng"));
            return;
        }
        final byte[] body = request.body();
        final int space = NgDatagram.cookieEnd(body, body.length);
        if (space <= 0)
        {
            counters.ngMalformed.increment();
            write(out, request.keepAlive(), false, 400, "Bad Request", "text/plain",
                text("an ng message is a cookie, a space and a dictionary"));
            return;
        }
        final String cookie = new String(body, 0, space, StandardCharsets.ISO_8859_1);
        write(out, request.keepAlive(), false, 200, "OK", NG_CONTENT_TYPE,
            NgMessage.reply(commands, counters, cookie, body, space + 1, request.tooLong()));
    }

    private static void get(final OutputStream out, final Request request, final String contentType, final String text)
        throws IOException
    {
        final boolean head = request.method().equals("HEAD");
        if (!request.method().equals("GET") && !head)
        {
            write(out, request.keepAlive(), false, 405, "Method Not Allowed", "text/plain", text("GET only"));
            return;
        }
        write(out, request.keepAlive(), head, 200, "OK", contentType, text.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] text(final String line)
    {
        return (line + "\n").getBytes(StandardCharsets.UTF_8);
    }

    private static void write(final OutputStream out, final boolean keepAlive, final boolean headOnly, final int status,
        final String phrase, final String contentType, final byte[] body) throws IOException
    {
        out.write(("HTTP/1.1 " + status + " " + phrase + "\r\nContent-Type: " + contentType + "\r\nContent-Length: " +
            body.length + "\r\n" + (keepAlive ? "" : "Connection: close\r\n") + "\r\n")
            .getBytes(StandardCharsets.ISO_8859_1));
        if (!headOnly)
        {
            out.write(body);
        }
        out.flush();
    }

    private void refuse(final OutputStream out, final int status, final String phrase, final String reason)
        throws IOException
    {
        counters.ngMalformed.increment();
        write(out, false, false, status, phrase, "text/plain", text(reason));
    }
}
