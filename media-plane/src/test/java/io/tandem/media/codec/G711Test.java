package io.tandem.media.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;

/**
 * G.711 against references computed here from the recommendation's definitions (segment/step reconstruction
 * values), independently of the production code's formulas and tables.
 */
class G711Test
{
    /** u-law reconstruction value of a code, in the recommendation's 14-bit units (G.711 Table 2). */
    static int ulawReference14(final int code)
    {
        final int inverted = ~code & 0xFF;
        final int segment = (inverted >> 4) & 7;
        final int step = inverted & 0x0F;
        final int magnitude = (33 + 2 * step) * (1 << segment) - 33;
        return (inverted & 0x80) != 0 ? -magnitude : magnitude;
    }

    /** A-law reconstruction value of a code, in the recommendation's 13-bit units times two (G.711 Table 1). */
    static int alawReference(final int code)
    {
        final int even = (code ^ 0x55) & 0xFF;
        final int segment = (even >> 4) & 7;
        final int step = even & 0x0F;
        final int magnitude = segment == 0 ? 2 * step + 1 : (33 + 2 * step) * (1 << (segment - 1));
        return (even & 0x80) != 0 ? magnitude : -magnitude;
    }

    /**
     * Encode by decision intervals built from the reconstruction values alone: within a segment the decision level
     * between two codes lies halfway between their values, and a segment's last interval ends half a step above its
     * last value. Magnitudes only; the caller keeps the sign (G.711's conversions are symmetric).
     * @param values the reconstruction magnitudes of the 128 codes in increasing order, in 16-bit units
     * @param halfSteps half the step size of each of those codes, same units
     * @return the index (0-127) of the code whose interval holds {@code magnitude}; ties go up.
     */
    static int intervalIndex(final int[] values, final int[] halfSteps, final int magnitude)
    {
        for (int i = 0; i < 127; i++)
        {
            if (magnitude < values[i] + halfSteps[i])
            {
                return i;
            }
        }
        return 127;
    }

    private static final int[] ULAW_VALUES = new int[128];
    private static final int[] ULAW_HALF_STEPS = new int[128];
    private static final int[] ALAW_VALUES = new int[128];
    private static final int[] ALAW_HALF_STEPS = new int[128];

    static
    {
        for (int i = 0; i < 128; i++)
        {
            final int segment = i >> 4;
            ULAW_VALUES[i] = Math.abs(ulawReference14(0xFF - i)) * 4; // 0xFF is +0, 0x80 the positive peak
            ULAW_HALF_STEPS[i] = 4 * (1 << segment);
            ALAW_VALUES[i] = Math.abs(alawReference(0x80 | i ^ 0x55)) * 8;
            ALAW_HALF_STEPS[i] = 8 * (segment == 0 ? 1 : 1 << (segment - 1));
        }
    }

    /** The A-law code for a u-law code by the decision-interval reference. */
    static int referenceUlawToAlaw(final int ulaw)
    {
        final int index = intervalIndex(ALAW_VALUES, ALAW_HALF_STEPS, Math.abs(ulawReference14(ulaw)) * 4);
        final int positive = 0x80 | index ^ 0x55;
        return (ulaw & 0x80) != 0 ? positive : positive & 0x7F;
    }

    /** The u-law code for an A-law code by the decision-interval reference. */
    static int referenceAlawToUlaw(final int alaw)
    {
        final int index = intervalIndex(ULAW_VALUES, ULAW_HALF_STEPS, Math.abs(alawReference(alaw)) * 8);
        final int positive = 0xFF - index;
        return (alaw & 0x80) != 0 ? positive : positive & 0x7F;
    }

    @Test
    void decodingMatchesTheReconstructionValuesForAll256Codes()
    {
        for (int code = 0; code < 256; code++)
        {
            assertEquals(ulawReference14(code) * 4, G711.ulawToLinear(code), "u-law code " + code);
            assertEquals(alawReference(code) * 8, G711.alawToLinear(code), "A-law code " + code);
        }
    }

    @Test
    void ulawToAlawMatchesTheReferenceForAll256Codes()
    {
        final StringBuilder mismatches = new StringBuilder();
        for (int code = 0; code < 256; code++)
        {
            final int expected = referenceUlawToAlaw(code);
            final int actual = G711.ulawToAlaw(code) & 0xFF;
            if (expected != actual)
            {
                mismatches.append(String.format("u 0x%02x -> A 0x%02x, reference 0x%02x%n", code, actual, expected));
            }
        }
        assertEquals("", mismatches.toString());
    }

    @Test
    void alawToUlawMatchesTheReferenceForAll256Codes()
    {
        final StringBuilder mismatches = new StringBuilder();
        for (int code = 0; code < 256; code++)
        {
            final int expected = referenceAlawToUlaw(code);
            final int actual = G711.alawToUlaw(code) & 0xFF;
            if (expected != actual)
            {
                mismatches.append(String.format("A 0x%02x -> u 0x%02x, reference 0x%02x%n", code, actual, expected));
            }
        }
        assertEquals("", mismatches.toString());
    }

    @Test
    void wellKnownCodesMapAsTheRecommendationSays()
    {
        assertEquals(0xD5, G711.ulawToAlaw(0xFF) & 0xFF, "u-law +0 -> smallest positive A-law");
        assertEquals(0x55, G711.ulawToAlaw(0x7F) & 0xFF, "u-law -0 -> smallest negative A-law");
        assertEquals(0xAA, G711.ulawToAlaw(0x80) & 0xFF, "u-law positive peak -> A-law positive peak");
        assertEquals(0x2A, G711.ulawToAlaw(0x00) & 0xFF, "u-law negative peak -> A-law negative peak");
        assertEquals(0x80, G711.alawToUlaw(0xAA) & 0xFF, "A-law positive peak -> u-law positive peak");
        assertEquals(0x00, G711.alawToUlaw(0x2A) & 0xFF, "A-law negative peak -> u-law negative peak");
    }

    @Test
    void transcoderRewritesPayloadAndTypeAndLeavesTheRestOfThePacket()
    {
        final ByteBuffer packet = ByteBuffer.allocateDirect(12 + 256);
        packet.put((byte)0x80).put((byte)0x80).putShort((short)4242).putInt(123456).putInt(0xCAFEBABE); // marker, PT 0
        for (int code = 0; code < 256; code++)
        {
            packet.put((byte)code);
        }
        packet.flip();
        assertTrue(G711Transcoder.ulawToAlaw().transform(packet, 12));
        assertEquals(0x80, packet.get(0) & 0xFF);
        assertEquals(0x80 | 8, packet.get(1) & 0xFF, "marker kept, payload type 0 -> 8");
        assertEquals(4242, packet.getShort(2));
        assertEquals(123456, packet.getInt(4));
        assertEquals(0xCAFEBABE, packet.getInt(8));
        for (int code = 0; code < 256; code++)
        {
            assertEquals(G711.ulawToAlaw(code), packet.get(12 + code), "payload byte " + code);
        }

        assertTrue(G711Transcoder.alawToUlaw().transform(packet, 12));
        assertEquals(0x80, packet.get(1) & 0xFF, "payload type 8 -> 0");
    }

    @Test
    void transcoderLeavesOtherPayloadTypesAndPaddingAlone()
    {
        final ByteBuffer packet = ByteBuffer.allocateDirect(12 + 4 + 4);
        packet.put((byte)0xA0).put((byte)101).putShort((short)1).putInt(2).putInt(3); // padding, telephone-event
        packet.putInt(0x01020304).put(new byte[] {9, 9, 9, 4});
        packet.flip();
        assertTrue(G711Transcoder.ulawToAlaw().transform(packet, 12));
        assertEquals(101, packet.get(1));
        assertEquals(0x01020304, packet.getInt(12));

        final ByteBuffer padded = ByteBuffer.allocateDirect(12 + 2 + 2);
        padded.put((byte)0xA0).put((byte)0).putShort((short)1).putInt(2).putInt(3);
        padded.put((byte)0xFF).put((byte)0x7F).put((byte)0x55).put((byte)2); // 2 bytes of padding
        padded.flip();
        assertTrue(G711Transcoder.ulawToAlaw().transform(padded, 12));
        assertEquals(0xD5, padded.get(12) & 0xFF);
        assertEquals(0x55, padded.get(13) & 0xFF);
        assertEquals(0x55, padded.get(14) & 0xFF, "padding is not audio");
        assertEquals(2, padded.get(15));
    }
}
