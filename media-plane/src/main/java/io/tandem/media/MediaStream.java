package io.tandem.media;

import java.net.InetSocketAddress;

/** One m= line of one monologue: its local RTP/RTCP sockets, the signalled remote, its flags. */
public final class MediaStream
{
    final int index;
    final Endpoint rtp;
    final Endpoint rtcp;
    InetSocketAddress signalledRtp;
    InetSocketAddress signalledRtcp;
    PayloadTransformer transformer = PayloadTransformer.NONE;

    MediaStream(final int index, final Endpoint rtp, final Endpoint rtcp)
    {
        this.index = index;
        this.rtp = rtp;
        this.rtcp = rtcp;
    }

    public int localRtpPort()
    {
        return rtp.localPort;
    }

    public int localRtcpPort()
    {
        return rtcp.localPort;
    }
}
