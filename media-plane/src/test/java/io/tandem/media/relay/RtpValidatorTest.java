package io.tandem.media.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;

/** Hand-written malformed RTP and RTCP: each gets its drop reason, never an exception. */
class RtpValidatorTest
{
    private static int validate(final int... bytes)
    {
        final ByteBuffer buffer = ByteBuffer.allocateDirect(bytes.length);
        for (final int b : bytes)
        {
            buffer.put((byte)b);
        }
        return RtpValidator.validate(buffer.flip(), bytes.length);
    }

    private static int[] rtp(final int firstByte, final int payloadLength)
    {
        final int[] packet = new int[12 + payloadLength];
        packet[0] = firstByte;
        return packet;
    }

    @Test
    void aPlainPacketHasATwelveByteHeader()
    {
        assertEquals(12, validate(rtp(0x80, 160)));
        assertEquals(12, validate(rtp(0x80, 0)), "an empty payload is allowed");
    }

    @Test
    void csrcsAndExtensionsLengthenTheHeader()
    {
        assertEquals(12 + 8, validate(rtp(0x82, 8)), "two CSRCs");
        final int[] extended = rtp(0x90, 12);
        extended[12 + 3] = 2; // extension of two 32-bit words after its 4-byte header
        assertEquals(12 + 4 + 8, validate(extended));
    }

    @Test
    void truncatedOrWrongVersionPacketsAreDropped()
    {
        assertEquals(RtpValidator.DROP_TOO_SHORT, validate());
        assertEquals(RtpValidator.DROP_TOO_SHORT, validate(0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0));
        assertEquals(RtpValidator.DROP_BAD_VERSION, validate(rtp(0x40, 10)));
        assertEquals(RtpValidator.DROP_BAD_VERSION, validate(rtp(0x00, 10)));
        assertEquals(RtpValidator.DROP_BAD_VERSION, validate(rtp(0xC0, 10)));
    }

    @Test
    void headerFieldsThatPointPastTheEndAreMalformed()
    {
        assertEquals(RtpValidator.DROP_MALFORMED, validate(rtp(0x8F, 8)), "15 CSRCs in 8 bytes");
        assertEquals(RtpValidator.DROP_MALFORMED, validate(rtp(0x90, 2)), "extension header cut");
        final int[] longExtension = rtp(0x90, 8);
        longExtension[12 + 2] = 0xFF;
        longExtension[12 + 3] = 0xFF;
        assertEquals(RtpValidator.DROP_MALFORMED, validate(longExtension), "extension longer than the packet");
        final int[] zeroPadding = rtp(0xA0, 4);
        assertEquals(RtpValidator.DROP_MALFORMED, validate(zeroPadding), "padding count of zero");
        final int[] hugePadding = rtp(0xA0, 4);
        hugePadding[15] = 200;
        assertEquals(RtpValidator.DROP_MALFORMED, validate(hugePadding), "padding longer than the payload");
    }

    @Test
    void rtcpIsRecognisedForRtcpMux()
    {
        assertEquals(RtpValidator.RTCP, validate(0x80, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0), "sender report");
        assertEquals(RtpValidator.RTCP, validate(0x81, 201, 0, 1, 0, 0, 0, 1), "8-byte receiver report");
        assertEquals(RtpValidator.DROP_TOO_SHORT, validate(0x81, 201, 0, 1), "4 bytes of RTCP");
    }
}
