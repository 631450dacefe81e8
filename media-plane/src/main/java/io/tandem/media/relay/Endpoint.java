package io.tandem.media.relay;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;

import io.tandem.media.codec.PayloadTransformer;

import org.agrona.CloseHelper;

/**
 * One local media socket (RTP or RTCP of one stream of one monologue) as the forwarding agent sees it.
 * Fields are written only by the forwarding agent once the endpoint is published to it; the session layer
 * creates endpoints, and changes them only through the agent's commands ({@link ForwardingAgent#add},
 * {@link ForwardingAgent#resignal}, {@link ForwardingAgent#pair}, {@link ForwardingAgent#remove}) run on the
 * agent thread. Its accessors are read there too (through a command), or as a racy snapshot after a call ended.
 */
public final class Endpoint
{
    private static final VarHandle REMOTE;
    private static final VarHandle LATCHED;
    private static final VarHandle PACKETS;
    private static final VarHandle BYTES;
    private static final VarHandle WRONG_SOURCE;
    private static final VarHandle LAST_PACKET_NS;

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            REMOTE = lookup.findVarHandle(Endpoint.class, "remote", InetSocketAddress.class);
            LATCHED = lookup.findVarHandle(Endpoint.class, "latched", boolean.class);
            PACKETS = lookup.findVarHandle(Endpoint.class, "packets", long.class);
            BYTES = lookup.findVarHandle(Endpoint.class, "bytes", long.class);
            WRONG_SOURCE = lookup.findVarHandle(Endpoint.class, "wrongSource", long.class);
            LAST_PACKET_NS = lookup.findVarHandle(Endpoint.class, "lastPacketNs", long.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    /** The socket, or null for one the relay opened by descriptor ({@link #fd}). */
    final DatagramChannel channel;
    /** Where a socket opened by descriptor is bound (null: the wildcard); null for a channel's. */
    final InetAddress openedOn;
    final int localPort;
    final boolean rtcp;

    /** Where this leg's media is sent: the signalled address, replaced by the latched source. */
    InetSocketAddress remote;
    InetSocketAddress signalled;
    /** Its party has signalled (an offer or answer): until then what arrives is relayed and nothing is learned. */
    boolean resignalled;
    /** The source accepted once latched; equals {@code remote} unless the stream is asymmetric. */
    InetSocketAddress source;
    /** The other leg's endpoint; packets received here are sent out of {@code peer.channel} to {@code peer.remote}. */
    Endpoint peer;
    LatchMode latchMode = LatchMode.HEURISTIC;
    boolean strictSource = true;
    boolean asymmetric;
    /** Locked onto {@code source}: the learning window has closed. */
    boolean latched;
    /** A source was seen since the last signalling event. */
    boolean learned;
    long learningDeadlineNs;
    PayloadTransformer transformer = PayloadTransformer.NONE;
    /** This endpoint's party said it sends media here; a call where no endpoint expects media is silent. */
    boolean expectsMedia = true;
    /** This endpoint's party multiplexes RTCP onto its RTP port. */
    boolean rtcpMux;
    /** The other socket of the same stream: the RTCP endpoint of an RTP one and the other way round. */
    Endpoint sibling;

    /** Added to the agent and not removed since. */
    boolean published;
    /** Where the agent keeps it in its array of published endpoints (-1 when not published). */
    int slot = -1;

    long packets;
    long bytes;
    long wrongSource;
    long lastPacketNs;
    /** Handle of the owning call, reported to the control plane when the stream times out; 0 once reported. */
    long callHandle;

    /** Kept by {@link EpollTransport}: the socket's descriptor (-1 when not registered or closed). */
    int fd = -1;
    /** Kept by {@link EpollTransport}: {@code txTo} encoded as a struct sockaddr of {@code txLength} bytes. */
    java.lang.foreign.MemorySegment txAddress;
    InetSocketAddress txTo;
    int txLength;
    /** The specific address the socket is bound to, or null (wildcard): set by the agent when published. */
    InetAddress boundAddress;
    /** Kept by {@link EpollTransport}: the last source seen, so a steady source is not decoded again. */
    InetSocketAddress rxSource;
    long rxKey1;
    long rxKey2;
    long rxKey3;
    /** Kept by {@link EpollTransport}: on its list of sockets to read again on the next pass. */
    boolean readAgain;

    /** Its stream is forwarded in the kernel (an entry in the XDP map), by {@link XdpOffload}. */
    boolean offloaded;
    /** The kernel's packet count for it as the agent last took it into account. */
    long kernelPackets;
    /** The kernel's packet count for it as {@link XdpOffload}'s thread last read it (the one field it writes). */
    volatile long kernelSeen;

    /**
     * Where RTCP for the party behind {@code peer} goes: its RTP socket when that party multiplexes RTCP onto RTP
     * (rtcp-mux), its RTCP socket otherwise, whichever socket the RTCP arrived on. So a party using rtcp-mux and
     * one that does not can talk through Tandem.
     */
    static Endpoint rtcpTowards(final Endpoint peer)
    {
        if (peer == null)
        {
            return null;
        }
        final Endpoint peerRtp = peer.rtcp ? peer.sibling : peer;
        final Endpoint peerRtcp = peer.rtcp ? peer : peer.sibling;
        if (peerRtp == null || peerRtcp == null)
        {
            return peer;
        }
        return peerRtp.rtcpMux ? peerRtp : peerRtcp;
    }

    /** An endpoint on a bound, non-blocking socket, not yet published to the agent. */
    public Endpoint(final DatagramChannel channel, final int localPort, final boolean rtcp)
    {
        this.channel = channel;
        this.localPort = localPort;
        this.rtcp = rtcp;
        this.openedOn = null;
    }

    /**
     * An endpoint on a bound, non-blocking socket the relay opened itself ({@link LinuxNet#openUdp}), known by its
     * descriptor alone (no channel), not yet published to the agent; {@link EpollTransport} watches it from then on.
     */
    Endpoint(final int fd, final InetAddress openedOn, final int localPort, final boolean rtcp)
    {
        this.channel = null;
        this.fd = fd;
        this.openedOn = openedOn;
        this.localPort = localPort;
        this.rtcp = rtcp;
    }

    /** The address the socket is bound to, as asked for or as the kernel reports it (a wildcard: 0.0.0.0). */
    InetSocketAddress boundSocketAddress() throws IOException
    {
        if (channel != null)
        {
            return (InetSocketAddress)channel.getLocalAddress();
        }
        return new InetSocketAddress(openedOn == null ? InetAddress.getByAddress(new byte[4]) : openedOn, localPort);
    }

    /** Close the socket of an endpoint that never reached the agent (the agent closes the others). */
    void closeUnpublished()
    {
        if (channel != null)
        {
            CloseHelper.quietClose(channel);
        }
        else
        {
            LinuxNet.close(fd);
            fd = -1;
        }
    }

    /** Make an RTP and an RTCP endpoint the two sockets of one stream (before either is published). */
    public static void siblings(final Endpoint rtp, final Endpoint rtcp)
    {
        rtp.sibling = rtcp;
        rtcp.sibling = rtp;
    }

    /** The socket; the agent closes it when the endpoint is removed. */
    public DatagramChannel channel()
    {
        return channel;
    }

    public int localPort()
    {
        return localPort;
    }

    public InetSocketAddress remote()
    {
        return remote;
    }

    public boolean latched()
    {
        return latched;
    }

    public long packets()
    {
        return packets;
    }

    public long wrongSource()
    {
        return wrongSource;
    }

    /** The source learned or latched (the signalled address before any packet came). */
    public InetSocketAddress source()
    {
        return source;
    }

    /** The handle of the call the endpoint was added for (0 once the agent reported the call timed out). */
    public long callHandle()
    {
        return callHandle;
    }

    /** Added to the agent and not removed since (read on the agent thread). */
    public boolean published()
    {
        return published;
    }

    public long bytes()
    {
        return bytes;
    }

    public long lastPacketNs()
    {
        return lastPacketNs;
    }

    /**
     * What the agent last wrote of this endpoint, read from another thread without a round trip: each field whole
     * (opaque reads: no torn long), the set of them not one instant's. The agent's writes stay plain stores.
     */
    EndpointView viewFromOutside()
    {
        return new EndpointView(localPort, (InetSocketAddress)REMOTE.getOpaque(this), (boolean)LATCHED.getOpaque(this),
            (long)PACKETS.getOpaque(this), (long)BYTES.getOpaque(this), (long)WRONG_SOURCE.getOpaque(this),
            (long)LAST_PACKET_NS.getOpaque(this));
    }
}
