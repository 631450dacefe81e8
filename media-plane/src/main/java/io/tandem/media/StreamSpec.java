package io.tandem.media;

import java.net.InetSocketAddress;

/**
 * What signalling says about one media stream of the sending party: where it receives RTP (and RTCP,
 * normally RTP port + 1), and how Tandem should treat its media. The shape the ng {@code offer}/{@code answer}
 * commands produce from an SDP body.
 */
public record StreamSpec(
    InetSocketAddress rtp,
    InetSocketAddress rtcp,
    boolean rtcpMux,
    LatchMode latchMode,
    boolean strictSource,
    boolean asymmetric,
    String transcode)
{
    public static StreamSpec of(final InetSocketAddress rtp)
    {
        return new StreamSpec(rtp, rtp == null ? null : new InetSocketAddress(rtp.getAddress(), rtp.getPort() + 1),
            false, null, true, false, null);
    }

    public StreamSpec withLatch(final LatchMode mode)
    {
        return new StreamSpec(rtp, rtcp, rtcpMux, mode, strictSource, asymmetric, transcode);
    }

    public StreamSpec withStrictSource(final boolean strict)
    {
        return new StreamSpec(rtp, rtcp, rtcpMux, latchMode, strict, asymmetric, transcode);
    }

    public StreamSpec withAsymmetric(final boolean value)
    {
        return new StreamSpec(rtp, rtcp, rtcpMux, latchMode, strictSource, value, transcode);
    }

    /** @param name a {@link PayloadTransformerProvider} name applied to media this party sends, e.g. "PCMU>PCMA". */
    public StreamSpec withTranscode(final String name)
    {
        return new StreamSpec(rtp, rtcp, rtcpMux, latchMode, strictSource, asymmetric, name);
    }
}
