package io.tandem.media.relay;

import java.net.InetSocketAddress;

import io.tandem.media.codec.PayloadTransformer;

/**
 * How the relay forwards one stream after a signalling event or a restore: an immutable value the control side
 * builds and hands to the forwarding agent through {@link RelayProxy}, keyed by the stream's handle. The agent
 * applies it to the stream's RTP and RTCP sockets on its own thread; nothing of the relay's sockets crosses.
 *
 * @param stream the handle {@link RelayProxy#open} gave the stream
 * @param rtpRemote where the party said it receives RTP
 * @param rtcpRemote where it receives RTCP (its RTP address when it multiplexes RTCP)
 * @param mode how the sockets learn the party's real source
 * @param strictSource whether packets from another source are dropped once latched
 * @param asymmetric whether the party sends from somewhere else than where it receives
 * @param transformer what RTP payloads go through on the way out (null: nothing)
 * @param expectsMedia false when the party said it will not send (recvonly, inactive)
 * @param rtcpMux whether the party multiplexes RTCP onto its RTP port
 * @param rtpLearned the RTP source learned before (a restart, a mirror), or null
 * @param rtcpLearned the RTCP source learned before, or null
 */
public record ForwardingEntry(
    int stream,
    InetSocketAddress rtpRemote,
    InetSocketAddress rtcpRemote,
    LatchMode mode,
    boolean strictSource,
    boolean asymmetric,
    PayloadTransformer transformer,
    boolean expectsMedia,
    boolean rtcpMux,
    InetSocketAddress rtpLearned,
    InetSocketAddress rtcpLearned)
{
}
