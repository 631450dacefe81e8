package io.tandem.media.relay;

import java.net.InetSocketAddress;

/**
 * What the relay knows of one socket of a stream: where its media goes, whether it latched, its counts. A value,
 * read from the forwarding agent's fields without a round trip to its thread (see {@link RelayProxy#view}).
 */
public record EndpointView(
    int localPort,
    InetSocketAddress remote,
    boolean latched,
    long packets,
    long bytes,
    long wrongSource,
    long lastPacketNs)
{
    /** The relay's views of a stream's RTP and RTCP sockets. */
    public record Stream(EndpointView rtp, EndpointView rtcp)
    {
    }
}
