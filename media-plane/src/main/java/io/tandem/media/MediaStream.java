package io.tandem.media;

/** One m= line of one monologue: its local RTP/RTCP sockets, the signalled remote, its flags. */
public final class MediaStream
{
    final int index;
    final Endpoint rtp;
    final Endpoint rtcp;
    /** The last signalling from this stream's party; null until that party has sent an offer or answer. */
    StreamSpec spec;

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

    public StreamSpec spec()
    {
        return spec;
    }
}
