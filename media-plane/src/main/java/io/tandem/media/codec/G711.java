package io.tandem.media.codec;

/**
 * ITU-T G.711 companding: u-law and A-law to 16-bit linear, linear to each law, and the direct
 * u-law to A-law and A-law to u-law byte tables used by the in-loop transcoder.
 */
public final class G711
{
    private static final short[] ULAW_TO_LINEAR = new short[256];
    private static final short[] ALAW_TO_LINEAR = new short[256];
    static final byte[] ULAW_TO_ALAW = new byte[256];
    static final byte[] ALAW_TO_ULAW = new byte[256];

    private static final int BIAS = 0x84;
    private static final int CLIP = 32635;

    static
    {
        for (int i = 0; i < 256; i++)
        {
            ULAW_TO_LINEAR[i] = decodeUlaw(i);
            ALAW_TO_LINEAR[i] = decodeAlaw(i);
        }
        // The direct tables work on magnitude and sign, as G.711's conversion is symmetric: negative zero stays
        // negative (u-law 0x7F -> A-law 0x55), and no two's-complement offset leaks into the negative half.
        for (int i = 0; i < 256; i++)
        {
            final boolean ulawPositive = (i & 0x80) != 0;
            final int alaw = encodeAlaw(Math.abs(ULAW_TO_LINEAR[i]));
            ULAW_TO_ALAW[i] = (byte)(ulawPositive ? alaw : alaw & 0x7F);
            final boolean alawPositive = (i & 0x80) != 0;
            final int ulaw = encodeUlaw(Math.abs(ALAW_TO_LINEAR[i]));
            ALAW_TO_ULAW[i] = (byte)(alawPositive ? ulaw : ulaw & 0x7F);
        }
    }

    private G711()
    {
    }

    public static short ulawToLinear(final int ulaw)
    {
        return ULAW_TO_LINEAR[ulaw & 0xFF];
    }

    public static short alawToLinear(final int alaw)
    {
        return ALAW_TO_LINEAR[alaw & 0xFF];
    }

    public static byte ulawToAlaw(final int ulaw)
    {
        return ULAW_TO_ALAW[ulaw & 0xFF];
    }

    public static byte alawToUlaw(final int alaw)
    {
        return ALAW_TO_ULAW[alaw & 0xFF];
    }

    private static short decodeUlaw(final int code)
    {
        final int u = ~code & 0xFF;
        final int exponent = (u >> 4) & 0x07;
        final int mantissa = u & 0x0F;
        final int magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
        return (short)((u & 0x80) != 0 ? -magnitude : magnitude);
    }

    private static short decodeAlaw(final int code)
    {
        final int a = (code ^ 0x55) & 0xFF;
        final int exponent = (a >> 4) & 0x07;
        final int mantissa = a & 0x0F;
        int magnitude = exponent == 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
        return (short)((a & 0x80) != 0 ? magnitude : -magnitude);
    }

    public static int encodeUlaw(final int linear)
    {
        int sample = linear;
        final int sign = sample < 0 ? 0x80 : 0;
        if (sample < 0)
        {
            sample = -sample;
        }
        if (sample > CLIP)
        {
            sample = CLIP;
        }
        sample += BIAS;
        int exponent = 7;
        for (int mask = 0x4000; (sample & mask) == 0 && exponent > 0; mask >>= 1)
        {
            exponent--;
        }
        final int mantissa = (sample >> (exponent + 3)) & 0x0F;
        return ~(sign | (exponent << 4) | mantissa) & 0xFF;
    }

    public static int encodeAlaw(final int linear)
    {
        int sample = linear;
        final int sign = sample >= 0 ? 0x80 : 0;
        if (sample < 0)
        {
            sample = -sample - 1;
        }
        if (sample > 32767)
        {
            sample = 32767;
        }
        final int code;
        if (sample < 256)
        {
            code = sample >> 4;
        }
        else
        {
            int exponent = 1;
            for (int s = sample >> 8; s > 1; s >>= 1)
            {
                exponent++;
            }
            code = (exponent << 4) | ((sample >> (exponent + 3)) & 0x0F);
        }
        return ((sign | code) ^ 0x55) & 0xFF;
    }
}
