package io.tandem.media.session;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

import io.tandem.media.relay.EndpointView;
import io.tandem.media.relay.LatchReport;
import io.tandem.media.relay.RelayProxy;

/**
 * One m= line of one monologue: the relay's stream (a handle) on its local RTP/RTCP port pair, the signalled remote,
 * its flags.
 */
public final class MediaStream
{
    final int index;
    final MediaInterface iface;
    /** The relay's name for this stream's sockets. */
    final int handle;
    /** The RTP port; RTCP is on the next. */
    final int port;
    private final RelayProxy relay;
    /** The last signalling from this stream's party; null until that party has sent an offer or answer. */
    StreamSpec spec;
    /** Where the relay latched RTP and RTCP onto, when not the signalled address (NAT); null otherwise. */
    InetSocketAddress rtpLearned;
    InetSocketAddress rtcpLearned;

    MediaStream(final int index, final MediaInterface iface, final RelayProxy relay, final int handle, final int port)
    {
        this.index = index;
        this.iface = iface;
        this.relay = relay;
        this.handle = handle;
        this.port = port;
    }

    public int localRtpPort()
    {
        return port;
    }

    /** The address the RTP socket is bound to, as the kernel reports it (under the registry's lock). */
    public SocketAddress boundRtpAddress() throws IOException
    {
        return relay.boundAddress(handle);
    }

    public int localRtcpPort()
    {
        return port + 1;
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

    /**
     * RTP packets received from this stream's party, as the relay last counted them: under the registry's lock, while
     * the call lives or from a call-ended listener.
     */
    public long rtpPacketsReceived()
    {
        return relay.view(handle, false).packets();
    }

    /**
     * The relay's view of this stream's RTP or RTCP socket, without waiting for the relay. A change it has not
     * applied yet shows where media goes as signalled (or as learned before a restart), as the relay will once it has.
     */
    EndpointView view(final boolean rtcp)
    {
        final EndpointView view = relay.view(handle, rtcp);
        if (view.remote() != null || spec == null)
        {
            return view;
        }
        final InetSocketAddress learned = rtcp ? rtcpLearned : rtpLearned;
        final InetSocketAddress signalled = rtcp && !spec.rtcpMux() ? spec.rtcp() : spec.rtp();
        return new EndpointView(view.localPort(), learned != null ? learned : signalled, view.latched(), view.packets(),
            view.bytes(), view.wrongSource(), view.lastPacketNs());
    }

    /** Whether the socket a latch report names is one of this stream's (its port, RTP or RTCP, on this interface). */
    boolean holds(final LatchReport latch)
    {
        if (latch.port() != (latch.rtcp() ? port + 1 : port))
        {
            return false;
        }
        final InetAddress bound = iface.bindAddress();
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
