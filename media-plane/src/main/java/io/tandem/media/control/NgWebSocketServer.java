package io.tandem.media.control;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import io.tandem.media.stats.MediaCounters;
import io.tandem.ng.Bencode;
import io.tandem.ng.WebSocket;
import io.tandem.ng.WebSocketException;
import io.tandem.ng.NgDatagram;

/**
 * The ng control protocol over WebSocket, as rtpengine offers it to Kamailio's {@code ws://} media nodes: the
 * subprotocol {@code ng.rtpengine.com}, one ng message (cookie, space, bencode or JSON dictionary) per WebSocket
 * message, the reply in the same format and frame type. Unlike UDP, a reply of any size arrives whole. Only sources
 * in the ng access list are accepted; a bad handshake gets 400, a frame that breaks the protocol a close frame
 * with the reason, and both are counted as malformed. One virtual thread per connection.
 */
public final class NgWebSocketServer extends NgConnectionServer
{
    public static final String SUBPROTOCOL = "ng.rtpengine.com";
    private static final int HANDSHAKE_TIMEOUT_MS = 10_000;

    public NgWebSocketServer(final NgContext ctx, final NgCommands commands, final MediaCounters counters)
    {
        super(ctx, commands, counters, ctx.listenWsAddress(), "tandem-ng-ws");
        start();
    }

    @Override
    protected void serve(final Socket socket) throws IOException
    {
        socket.setSoTimeout(HANDSHAKE_TIMEOUT_MS); // a client that never completes its handshake does not hold a slot
        try (InputStream in = socket.getInputStream(); OutputStream out = socket.getOutputStream())
        {
            final byte[] head = new byte[WebSocket.MAX_HANDSHAKE];
            int filled = 0;
            int end;
            while ((end = WebSocket.headEnd(head, filled)) < 0)
            {
                if (filled == head.length)
                {
                    refuse(out, "handshake larger than " + WebSocket.MAX_HANDSHAKE + " bytes");
                    return;
                }
                final int read = in.read(head, filled, head.length - filled);
                if (read < 0)
                {
                    return;
                }
                filled += read;
            }
            final WebSocket.Handshake handshake;
            try
            {
                handshake = WebSocket.parseHandshake(head, end);
            }
            catch (final WebSocketException ex)
            {
                refuse(out, ex.getMessage());
                return;
            }
            if (crossOrigin(handshake) && !ctx.wsOriginAllowed(handshake.origin()))
            {
                counters.ngSourceRefused.increment();
                refuse(out, 403, "Forbidden", "origin " + handshake.origin() + " is not allowed (--ng-ws-origin)");
                return;
            }
            final String[] offered = handshake.protocols();
            if (offered.length > 0 && !Arrays.asList(offered).contains(SUBPROTOCOL))
            {
                refuse(out, "no supported subprotocol offered (this is " + SUBPROTOCOL + ")");
                return;
            }
            out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                "Sec-WebSocket-Accept: " + WebSocket.accept(handshake.key()) + "\r\n" +
                (offered.length > 0 ? "Sec-WebSocket-Protocol: " + SUBPROTOCOL + "\r\n" : "") + "\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            frames(socket, in, out, Arrays.copyOfRange(head, end, filled));
        }
    }

    /** Read frames until the connection or the protocol ends; {@code early} holds bytes read with the handshake. */
    private void frames(final Socket socket, final InputStream in, final OutputStream out, final byte[] early)
        throws IOException
    {
        byte[] buffer = Arrays.copyOf(early, Math.max(4096, early.length));
        int filled = early.length;
        int messageOpcode = -1;
        final java.io.ByteArrayOutputStream message = new java.io.ByteArrayOutputStream();
        while (running)
        {
            final WebSocket.Frame frame;
            try
            {
                frame = WebSocket.parseFrame(buffer, filled, NgServer.MAX_MESSAGE);
            }
            catch (final WebSocketException ex)
            {
                counters.ngMalformed.increment();
                out.write(WebSocket.close(ex.getMessage().contains("larger") ? WebSocket.CLOSE_TOO_BIG :
                    WebSocket.CLOSE_PROTOCOL_ERROR));
                out.flush();
                return;
            }
            if (frame == null)
            {
                if (filled == buffer.length)
                {
                    buffer = Arrays.copyOf(buffer, Math.min(buffer.length * 2, NgServer.MAX_MESSAGE + 16));
                }
                // between messages an upgraded ng connection may idle for as long as it likes; within one, not
                readTimeout(socket, filled > 0 || messageOpcode >= 0);
                final int read = in.read(buffer, filled, buffer.length - filled);
                if (read < 0)
                {
                    return;
                }
                filled += read;
                continue;
            }
            System.arraycopy(buffer, frame.length(), buffer, 0, filled - frame.length());
            filled -= frame.length();
            switch (frame.opcode())
            {
                case WebSocket.PING -> out.write(WebSocket.frame(WebSocket.PONG, frame.payload()));
                case WebSocket.PONG -> { }
                case WebSocket.CLOSE ->
                {
                    out.write(WebSocket.close(WebSocket.CLOSE_NORMAL));
                    out.flush();
                    return;
                }
                default ->
                {
                    if ((frame.opcode() == WebSocket.CONTINUATION) == (messageOpcode < 0))
                    {
                        counters.ngMalformed.increment(); // a continuation with nothing to continue, or a
                        out.write(WebSocket.close(WebSocket.CLOSE_PROTOCOL_ERROR)); // new message inside one
                        out.flush();
                        return;
                    }
                    if (messageOpcode < 0)
                    {
                        messageOpcode = frame.opcode();
                    }
                    message.writeBytes(frame.payload());
                    if (message.size() > NgServer.MAX_MESSAGE)
                    {
                        counters.ngMalformed.increment();
                        out.write(WebSocket.close(WebSocket.CLOSE_TOO_BIG));
                        out.flush();
                        return;
                    }
                    if (frame.fin())
                    {
                        out.write(WebSocket.frame(messageOpcode, reply(message.toByteArray())));
                        message.reset();
                        messageOpcode = -1;
                    }
                }
            }
            out.flush();
        }
    }

    /** The reply to one ng message; one without a cookie gets an error reply under the cookie "-". */
    private byte[] reply(final byte[] message)
    {
        final int space = NgDatagram.cookieEnd(message, message.length);
        if (space <= 0)
        {
            counters.ngMalformed.increment();
            return NgDatagram.withCookie("-", Bencode.encode(NgCommands.error("An ng message is a cookie, a space and a dictionary")));
        }
        return NgMessage.reply(commands, counters, new String(message, 0, space, StandardCharsets.ISO_8859_1),
            message, space + 1, false);
    }

    /**
     * Whether a handshake comes from a web page of another origin than this listener (cross-site WebSocket
     * hijacking: a page that makes its visitor's browser, on an allowed host, drive the media plane). Browsers send
     * Origin; a page of the listener's own origin, and clients that send none or the Host itself (Kamailio's lwsc
     * sends "http://" and its Host), are not cross-origin.
     */
    private static boolean crossOrigin(final WebSocket.Handshake handshake)
    {
        final String origin = handshake.origin();
        if (origin == null)
        {
            return false;
        }
        final String lower = origin.trim().toLowerCase(java.util.Locale.ROOT);
        final String host = String.valueOf(handshake.headers().get("host")).trim().toLowerCase(java.util.Locale.ROOT);
        final String originHost = lower.startsWith("http://") ? lower.substring(7) :
            lower.startsWith("https://") ? lower.substring(8) : null;
        return originHost == null ? lower.equals("null") : !originHost.equals(host);
    }

    private void refuse(final OutputStream out, final String reason) throws IOException
    {
        counters.ngMalformed.increment();
        refuse(out, 400, "Bad Request", reason);
    }

    private static void refuse(final OutputStream out, final int status, final String phrase, final String reason)
        throws IOException
    {
        final byte[] body = (reason + "\n").getBytes(StandardCharsets.UTF_8);
        out.write(("HTTP/1.1 " + status + " " + phrase + "\r\nContent-Type: text/plain\r\nContent-Length: " +
            body.length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
    }
}
