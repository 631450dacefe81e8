package io.tandem.media.session;

import io.tandem.media.relay.Endpoint;

/** One m= line of one monologue: its local RTP/RTCP sockets, the signalled remote, its flags. */
public final class MediaStream
{
    final int index;
    final MediaInterface iface;
    final Endpoint rtp;
    final Endpoint rtcp;
    /** The last signalling from this stream's party; null until that party has sent an offer or answer. */
    StreamSpec spec;
    /** Where the relay latched RTP and RTCP onto, when not the signalled address (NAT); null otherwise. */
    java.net.InetSocketAddress rtpLearned;
    java.net.InetSocketAddress rtcpLearned;

    MediaStream(final int index, final MediaInterface iface, final Endpoint rtp, final Endpoint rtcp)
    {
        this.index = index;
        this.iface = iface;
        this.rtp = rtp;
        this.rtcp = rtcp;
    }

    public int localRtpPort()
    {
        return rtp.localPort();
    }

    /** The address the RTP socket is bound to, as the kernel reports it. */
    public java.net.SocketAddress boundRtpAddress() throws java.io.IOException
    {
        return rtp.channel().getLocalAddress();
    }

    public int localRtcpPort()
    {
        return rtcp.localPort();
    }

    /** The logical interface this stream's sockets are on. */
    public MediaInterface mediaInterface()
    {
        return iface;
    }

    /** The address peers send this stream's media to: its interface's advertised address. */
    public String advertisedAddress()
    {
        return iface.advertisedAddress();
    }

    /** RTP packets received from this stream's party (read after the call ended, or as a racy snapshot). */
    public long rtpPacketsReceived()
    {
        return rtp.packets();
    }

    /** Whether the socket a latch report names is one of this stream's (its port, RTP or RTCP, on this interface). */
    boolean holds(final io.tandem.media.relay.LatchReport latch)
    {
        final Endpoint socket = latch.rtcp() ? rtcp : rtp;
        if (socket.localPort() != latch.port())
        {
            return false;
        }
        final java.net.InetAddress bound = iface.bindAddress();
        return latch.address() == null || bound == null || bound.isAnyLocalAddress() || bound.equals(latch.address());
    }

    public int index()
    {
        return index;
    }

    public StreamSpec spec()
    {
        return spec;
    }
}
