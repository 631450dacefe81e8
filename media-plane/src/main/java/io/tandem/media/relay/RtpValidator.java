package io.tandem.media.relay;

import java.nio.ByteBuffer;

/**
 * Validates an RTP or RTCP packet in a buffer without allocating. Returns the RTP header length, or a
 * negative {@code DROP_*} reason. RTCP (payload types 72-76 with the marker bit, RFC 5761) is recognised
 * so that rtcp-mux streams carry it unchanged.
 */
public final class RtpValidator
{
    public static final int MIN_RTP_HEADER = 12;
    public static final int DROP_TOO_SHORT = -1;
    public static final int DROP_BAD_VERSION = -2;
    public static final int DROP_MALFORMED = -3;
    public static final int RTCP = 0;

    private RtpValidator()
    {
    }

    public static int validate(final ByteBuffer packet, final int length)
    {
        if (length < MIN_RTP_HEADER)
        {
            return length >= 8 && (packet.get(0) & 0xC0) == 0x80 && isRtcpType(packet.get(1)) ? RTCP : DROP_TOO_SHORT;
        }
        final int b0 = packet.get(0) & 0xFF;
        if ((b0 >> 6) != 2)
        {
            return DROP_BAD_VERSION;
        }
        if (isRtcpType(packet.get(1)))
        {
            return RTCP;
        }
        int header = MIN_RTP_HEADER + 4 * (b0 & 0x0F);
        if (header > length)
        {
            return DROP_MALFORMED;
        }
        if ((b0 & 0x10) != 0)
        {
            if (header + 4 > length)
            {
                return DROP_MALFORMED;
            }
            final int words = ((packet.get(header + 2) & 0xFF) << 8) | (packet.get(header + 3) & 0xFF);
            header += 4 + 4 * words;
            if (header > length)
            {
                return DROP_MALFORMED;
            }
        }
        if ((b0 & 0x20) != 0)
        {
            final int padding = packet.get(length - 1) & 0xFF;
            if (padding == 0 || header + padding > length)
            {
                return DROP_MALFORMED;
            }
        }
        return header;
    }

    private static boolean isRtcpType(final byte b1)
    {
        final int pt = b1 & 0xFF;
        return pt >= 192 && pt <= 223;
    }
}
