package io.tandem.ng;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Predicate;

/**
 * A small HTTP/1.1 server for what Tandem serves over HTTP (ng's {@code POST /ng}, Prometheus' {@code /metrics},
 * {@code /ping}), on the connection listeners' footing: at most so many connections, a request begun must be
 * complete within the partial-message timeout (slowloris), a keep-alive connection idle between requests for the
 * idle timeout is closed. Heads over {@value #MAX_HEAD} bytes get 431 and chunked bodies 411, both reported as
 * malformed; a body over {@code maxBody} is read only to one byte past it and handed on marked too long, and the
 * connection ends after the reply. Subclasses answer requests ({@link #respond}); {@code HEAD} gets the head only.
 */
public abstract class HttpListener extends ConnectionListener
{
    public static final int MAX_HEAD = WebSocket.MAX_HANDSHAKE;
    private static final long MAX_DRAIN = 1 << 20;

    private final int maxBody;

    /**
     * One request as read from its connection; {@code path} without its query.
     *
     * @param tooLong the body was longer than the listener takes: {@code body} holds its first {@code maxBody + 1}
     *     bytes, and the connection ends after the reply
     */
    public record Request(String method, String path, boolean keepAlive, byte[] body, InetSocketAddress source,
        boolean tooLong)
    {
    }

    /** What a request is answered with. */
    public record Response(int status, String phrase, String contentType, byte[] body)
    {
        /** A plain-text response of one line. */
        public static Response text(final int status, final String phrase, final String line)
        {
            return new Response(status, phrase, "text/plain", (line + "\n").getBytes(StandardCharsets.UTF_8));
        }

        public static Response notFound()
        {
            return text(404, "Not Found", "not found");
        }

        /** {@code text} for a GET (or HEAD); 405 for any other method. */
        public static Response get(final Request request, final String contentType, final String text)
        {
            if (!request.method().equals("GET") && !request.method().equals("HEAD"))
            {
                return text(405, "Method Not Allowed", "GET only");
            }
            return new Response(200, "OK", contentType, text.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** A request's head: its request line and the headers this server acts on. */
    public record Head(String method, String path, boolean keepAlive, long length)
    {
    }

    /** A request head refused, with the status and reason it is answered with. */
    public static final class Refused extends Exception
    {
        private final int status;
        private final String phrase;

        Refused(final int status, final String phrase, final String reason)
        {
            super(reason, null, false, false);
            this.status = status;
            this.phrase = phrase;
        }

        public int status()
        {
            return status;
        }
    }

    /**
     * @param accepts which sources may connect at all (a listener with per-path rules checks in {@link #respond})
     * @param maxBody the longest body read whole
     */
    protected HttpListener(final InetSocketAddress listen, final String name, final Limits limits,
        final Predicate<InetAddress> accepts, final Events events, final int maxBody)
    {
        super(listen, name, limits, accepts, events);
        this.maxBody = maxBody;
    }

    /** The answer to one request; called on the connection's thread. */
    protected abstract Response respond(Request request);

    @Override
    protected final void serve(final Socket socket) throws IOException
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
                        refuse(out, new Refused(431, "Request Header Fields Too Large",
                            "request head over " + MAX_HEAD + " bytes"));
                        return;
                    }
                    // Between requests a keep-alive connection may idle a while; a request begun must be completed.
                    socket.setSoTimeout(filled > 0 ? limits.partialMessageTimeoutMs() : limits.idleTimeoutMs());
                    final int read = readIdle(in, buffer, filled, filled == 0);
                    if (read < 0)
                    {
                        return;
                    }
                    filled += read;
                }
                final Head head;
                try
                {
                    head = head(buffer, end);
                }
                catch (final Refused ex)
                {
                    refuse(out, ex);
                    return;
                }
                final boolean tooLong = head.length() > maxBody;
                final int length = (int)(tooLong ? maxBody + 1 : head.length());
                final int inBuffer = Math.min(length, filled - end);
                final byte[] body = body(socket, in, Arrays.copyOfRange(buffer, end, end + inBuffer), length);
                if (body == null)
                {
                    return;
                }
                // bytes after this request's body (a pipelined next request): kept for the next round
                System.arraycopy(buffer, end + inBuffer, buffer, 0, filled - end - inBuffer);
                filled -= end + inBuffer;
                final boolean keepAlive = head.keepAlive() && !tooLong;
                final Request request = new Request(head.method(), pathOnly(head.path()), keepAlive, body,
                    (InetSocketAddress)socket.getRemoteSocketAddress(), tooLong);
                write(out, keepAlive, head.method().equals("HEAD"), respond(request));
                if (!keepAlive)
                {
                    // Read what the client still sends of an oversized body (up to a bound) before closing: closed
                    // with unread bytes, the socket would reset and the client could lose the reply.
                    drain(socket, in, Math.min(tooLong ? head.length() - length : 0, MAX_DRAIN));
                    return;
                }
            }
        }
    }

    private static String pathOnly(final String path)
    {
        final int query = path.indexOf('?');
        return query < 0 ? path : path.substring(0, query);
    }

    /** The body: what came with the head, then the rest read within the partial-message timeout; null at EOF. */
    private byte[] body(final Socket socket, final InputStream in, final byte[] start, final int length)
        throws IOException
    {
        final byte[] whole = Arrays.copyOf(start, length);
        int have = start.length;
        socket.setSoTimeout(limits.partialMessageTimeoutMs());
        while (have < length)
        {
            final int read = in.read(whole, have, whole.length - have);
            if (read < 0)
            {
                return null;
            }
            have += read;
        }
        return whole;
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

    /**
     * Parse the head of a request, the {@code end} bytes of {@code buffer} up to and with its blank line: the request
     * line, Content-Length (0 when absent), Connection; a chunked body is refused (411), as is a line that is not an
     * HTTP/1.x request line or a Content-Length that is not a length (400).
     */
    public static Head head(final byte[] buffer, final int end) throws Refused
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

    private static void write(final OutputStream out, final boolean keepAlive, final boolean headOnly,
        final Response response) throws IOException
    {
        out.write(("HTTP/1.1 " + response.status() + " " + response.phrase() + "\r\nContent-Type: " +
            response.contentType() + "\r\nContent-Length: " + response.body().length + "\r\n" +
            (keepAlive ? "" : "Connection: close\r\n") + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        if (!headOnly)
        {
            out.write(response.body());
        }
        out.flush();
    }

    private void refuse(final OutputStream out, final Refused refused) throws IOException
    {
        events.malformed();
        write(out, false, false, Response.text(refused.status, refused.phrase, refused.getMessage()));
    }
}
