package io.tandem.media.codec;

import java.nio.ByteBuffer;

/**
 * G.711 u-law to A-law (payload type 0 to 8) or back, in place. Sequence, timestamp and SSRC are untouched;
 * packets of any other payload type (e.g. telephone-event) pass unchanged.
 */
public final class G711Transcoder implements PayloadTransformer
{
    public static final int PT_PCMU = 0;
    public static final int PT_PCMA = 8;

    private final byte[] table;
    private final int fromPt;
    private final int toPt;

    private G711Transcoder(final byte[] table, final int fromPt, final int toPt)
    {
        this.table = table;
        this.fromPt = fromPt;
        this.toPt = toPt;
    }

    public static G711Transcoder ulawToAlaw()
    {
        return new G711Transcoder(G711.ULAW_TO_ALAW, PT_PCMU, PT_PCMA);
    }

    public static G711Transcoder alawToUlaw()
    {
        return new G711Transcoder(G711.ALAW_TO_ULAW, PT_PCMA, PT_PCMU);
    }

    @Override
    public boolean transform(final ByteBuffer packet, final int headerLength)
    {
        final int b1 = packet.get(1) & 0xFF;
        if ((b1 & 0x7F) != fromPt)
        {
            return true;
        }
        packet.put(1, (byte)((b1 & 0x80) | toPt));
        int end = packet.limit();
        if ((packet.get(0) & 0x20) != 0)
        {
            end -= packet.get(end - 1) & 0xFF; // RTP padding is not audio
        }
        for (int i = headerLength; i < end; i++)
        {
            packet.put(i, table[packet.get(i) & 0xFF]);
        }
        return true;
    }

    public static final class UlawToAlawProvider implements PayloadTransformerProvider
    {
        public String name()
        {
            return "PCMU>PCMA";
        }

        public PayloadTransformer create()
        {
            return ulawToAlaw();
        }
    }

    public static final class AlawToUlawProvider implements PayloadTransformerProvider
    {
        public String name()
        {
            return "PCMA>PCMU";
        }

        public PayloadTransformer create()
        {
            return alawToUlaw();
        }
    }
}
