package io.tandem.ng;

import java.nio.charset.StandardCharsets;

/**
 * The ng datagram format, {@code <cookie> <bencode or JSON dictionary>}, shared by UDP, HTTP {@code POST /ng} and
 * WebSocket: finding the cookie and putting one in front of a body. A reply carries its request's cookie.
 */
public final class NgDatagram
{
    /** A cookie longer than this is not one. */
    public static final int MAX_COOKIE = 256;

    private NgDatagram()
    {
    }

    /** Where the space after the cookie is, among the first {@code length} bytes; -1 if not within a cookie's length. */
    public static int cookieEnd(final byte[] bytes, final int length)
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

    /** {@code cookie}, a space, then {@code body}. */
    public static byte[] withCookie(final String cookie, final byte[] body)
    {
        final byte[] prefix = (cookie + " ").getBytes(StandardCharsets.ISO_8859_1);
        final byte[] out = new byte[prefix.length + body.length];
        System.arraycopy(prefix, 0, out, 0, prefix.length);
        System.arraycopy(body, 0, out, prefix.length, body.length);
        return out;
    }
}
