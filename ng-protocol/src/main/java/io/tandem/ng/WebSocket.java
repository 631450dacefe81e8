package io.tandem.ng;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The wire of a WebSocket server (RFC 6455), as far as ng needs it: the opening handshake and frames. Parsers
 * produce values or throw {@link WebSocketException} with the reason; they never touch a socket, so they can be
 * fed anything.
 */
public final class WebSocket
{
    public static final int TEXT = 0x1;
    public static final int BINARY = 0x2;
    public static final int CONTINUATION = 0x0;
    public static final int CLOSE = 0x8;
    public static final int PING = 0x9;
    public static final int PONG = 0xA;
    /** Close codes sent back. */
    public static final int CLOSE_NORMAL = 1000;
    public static final int CLOSE_PROTOCOL_ERROR = 1002;
    public static final int CLOSE_TOO_BIG = 1009;
    public static final int MAX_HANDSHAKE = 8192;
    private static final String ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    private WebSocket()
    {
    }

    /** A client's opening handshake: the request path, its headers (names lower case), and what it offered. */
    public record Handshake(String path, Map<String, String> headers)
    {
        public String key()
        {
            return headers.get("sec-websocket-key");
        }

        /** The Origin header a browser sends (a page's origin), or null: ng clients such as Kamailio send none. */
        public String origin()
        {
            return headers.get("origin");
        }

        /** The subprotocols the client offered, or an empty array. */
        public String[] protocols()
        {
            final String offered = headers.get("sec-websocket-protocol");
            return offered == null ? new String[0] : offered.trim().split("\\s*,\\s*");
        }
    }

    /** One frame: FIN bit, opcode, unmasked payload, and how many bytes of the buffer it took. */
    public record Frame(boolean fin, int opcode, byte[] payload, int length)
    {
    }

    /** Where the head of an HTTP request ends (after the blank line), or -1 if it has not all arrived. */
    public static int headEnd(final byte[] buffer, final int filled)
    {
        for (int i = 3; i < filled; i++)
        {
            if (buffer[i] == '\n' && buffer[i - 1] == '\r' && buffer[i - 2] == '\n' && buffer[i - 3] == '\r')
            {
                return i + 1;
            }
        }
        return -1;
    }

    /** Parse an opening handshake ({@code GET ... HTTP/1.1} with the upgrade headers). */
    public static Handshake parseHandshake(final byte[] head, final int length) throws WebSocketException
    {
        final String text = new String(head, 0, length, StandardCharsets.ISO_8859_1);
        final String[] lines = text.split("\r\n");
        if (lines.length == 0)
        {
            throw new WebSocketException("empty request");
        }
        final String[] request = lines[0].split(" ");
        if (request.length != 3 || !request[0].equals("GET") || !request[2].startsWith("HTTP/1."))
        {
            throw new WebSocketException("not a GET request line: " + clip(lines[0]));
        }
        final Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length && !lines[i].isEmpty(); i++)
        {
            final int colon = lines[i].indexOf(':');
            if (colon <= 0)
            {
                throw new WebSocketException("malformed header line: " + clip(lines[i]));
            }
            headers.merge(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim(),
                (a, b) -> a + ", " + b);
        }
        if (!"websocket".equalsIgnoreCase(headers.getOrDefault("upgrade", "")))
        {
            throw new WebSocketException("no Upgrade: websocket header");
        }
        if (!headers.getOrDefault("connection", "").toLowerCase(Locale.ROOT).contains("upgrade"))
        {
            throw new WebSocketException("no Connection: Upgrade header");
        }
        if (!"13".equals(headers.get("sec-websocket-version")))
        {
            throw new WebSocketException("unsupported Sec-WebSocket-Version: " + headers.get("sec-websocket-version"));
        }
        final String key = headers.get("sec-websocket-key");
        final byte[] decoded;
        try
        {
            decoded = key == null ? null : Base64.getDecoder().decode(key);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new WebSocketException("Sec-WebSocket-Key is not base64");
        }
        if (decoded == null || decoded.length != 16)
        {
            throw new WebSocketException("Sec-WebSocket-Key must be 16 bytes in base64");
        }
        return new Handshake(request[1], headers);
    }

    /** The {@code Sec-WebSocket-Accept} value for a client's key. */
    public static String accept(final String key)
    {
        try
        {
            final byte[] digest = MessageDigest.getInstance("SHA-1")
                .digest((key + ACCEPT_GUID).getBytes(StandardCharsets.ISO_8859_1));
            return Base64.getEncoder().encodeToString(digest);
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException("SHA-1 is part of every JDK", ex);
        }
    }

    /**
     * Parse the client frame at the start of the buffer. @return the frame, or null if it has not all arrived.
     * @throws WebSocketException if it breaks the protocol (unmasked, reserved bits, bad control frame) or is
     *                            larger than {@code maxPayload}.
     */
    public static Frame parseFrame(final byte[] buffer, final int filled, final int maxPayload) throws WebSocketException
    {
        if (filled < 2)
        {
            return null;
        }
        final int first = buffer[0] & 0xff;
        final int second = buffer[1] & 0xff;
        if ((first & 0x70) != 0)
        {
            throw new WebSocketException("reserved bits set without an extension");
        }
        final boolean fin = (first & 0x80) != 0;
        final int opcode = first & 0x0f;
        if (opcode != CONTINUATION && opcode != TEXT && opcode != BINARY && opcode != CLOSE && opcode != PING &&
            opcode != PONG)
        {
            throw new WebSocketException("unknown opcode " + opcode);
        }
        if ((second & 0x80) == 0)
        {
            throw new WebSocketException("a client frame must be masked");
        }
        long payload = second & 0x7f;
        int header = 2;
        if (payload == 126)
        {
            if (filled < 4)
            {
                return null;
            }
            payload = (buffer[2] & 0xff) << 8 | (buffer[3] & 0xff);
            header = 4;
        }
        else if (payload == 127)
        {
            if (filled < 10)
            {
                return null;
            }
            payload = 0;
            for (int i = 2; i < 10; i++)
            {
                payload = payload << 8 | (buffer[i] & 0xff);
            }
            if (payload < 0)
            {
                throw new WebSocketException("payload length has its top bit set");
            }
            header = 10;
        }
        if (opcode >= CLOSE && (!fin || payload > 125))
        {
            throw new WebSocketException("a control frame must be whole and at most 125 bytes");
        }
        if (payload > maxPayload)
        {
            throw new WebSocketException("frame of " + payload + " bytes is larger than " + maxPayload);
        }
        final int total = header + 4 + (int)payload;
        if (filled < total)
        {
            return null;
        }
        final byte[] data = new byte[(int)payload];
        for (int i = 0; i < data.length; i++)
        {
            data[i] = (byte)(buffer[header + 4 + i] ^ buffer[header + (i & 3)]);
        }
        return new Frame(fin, opcode, data, total);
    }

    /** A whole, unmasked server frame. */
    public static byte[] frame(final int opcode, final byte[] payload)
    {
        final int header = payload.length < 126 ? 2 : payload.length < 65536 ? 4 : 10;
        final byte[] out = new byte[header + payload.length];
        out[0] = (byte)(0x80 | opcode);
        if (header == 2)
        {
            out[1] = (byte)payload.length;
        }
        else if (header == 4)
        {
            out[1] = 126;
            out[2] = (byte)(payload.length >>> 8);
            out[3] = (byte)payload.length;
        }
        else
        {
            out[1] = 127;
            for (int i = 0; i < 8; i++)
            {
                out[2 + i] = (byte)((long)payload.length >>> (56 - 8 * i));
            }
        }
        System.arraycopy(payload, 0, out, header, payload.length);
        return out;
    }

    /** A close frame with a status code. */
    public static byte[] close(final int code)
    {
        return frame(CLOSE, new byte[] {(byte)(code >>> 8), (byte)code});
    }

    private static String clip(final String text)
    {
        return text.length() <= 80 ? text : text.substring(0, 80) + "...";
    }
}
