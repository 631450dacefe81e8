package io.tandem.media.session;

import java.net.InetSocketAddress;

/** A snapshot of one endpoint's relay-side state, read on the relay's thread. */
public record EndpointView(
    int localPort,
    InetSocketAddress remote,
    boolean latched,
    long packets,
    long bytes,
    long wrongSource,
    long lastPacketNs)
{
    /** The relay's views of a stream's RTP and RTCP endpoints (null where not published). */
    public record Stream(EndpointView rtp, EndpointView rtcp)
    {
    }
}
