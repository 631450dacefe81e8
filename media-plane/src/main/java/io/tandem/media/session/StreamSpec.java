package io.tandem.media.session;

import java.net.InetSocketAddress;

import io.tandem.media.codec.PayloadTransformerProvider;
import io.tandem.media.relay.LatchMode;

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
    String transcode,
    String mediaType,
    String protocol,
    String formats,
    boolean sends)
{
    /** A stream whose RTCP is on the next port (on the same port for RTP port 65535, which has no next). */
    public static StreamSpec of(final InetSocketAddress rtp)
    {
        return new StreamSpec(rtp, rtp == null ? null :
            new InetSocketAddress(rtp.getAddress(), rtp.getPort() < 65535 ? rtp.getPort() + 1 : rtp.getPort()),
            false, null, true, false, null, "audio", "RTP/AVP", null, true);
    }

    public StreamSpec withLatch(final LatchMode mode)
    {
        return new StreamSpec(rtp, rtcp, rtcpMux, mode, strictSource, asymmetric, transcode, mediaType, protocol, formats, sends);
    }

    public StreamSpec withStrictSource(final boolean strict)
    {
        return new StreamSpec(rtp, rtcp, rtcpMux, latchMode, strict, asymmetric, transcode, mediaType, protocol, formats, sends);
    }

    public StreamSpec withAsymmetric(final boolean value)
    {
        return new StreamSpec(rtp, rtcp, rtcpMux, latchMode, strictSource, value, transcode, mediaType, protocol, formats, sends);
    }

    /** Where RTCP goes, and whether it shares the RTP port (rtcp-mux). */
    public StreamSpec withRtcp(final InetSocketAddress address, final boolean mux)
    {
        return new StreamSpec(rtp, address, mux, latchMode, strictSource, asymmetric, transcode, mediaType, protocol, formats, sends);
    }

    /** The SDP media type (audio, video) and transport protocol (RTP/AVP...), as reported by ng query. */
    public StreamSpec withMedia(final String type, final String transportProtocol)
    {
        return new StreamSpec(rtp, rtcp, rtcpMux, latchMode, strictSource, asymmetric, transcode, type, transportProtocol, formats, sends);
    }

    /** The payload types this party offered or answered, as on its m= line (space separated). */
    public StreamSpec withFormats(final String value)
    {
        return new StreamSpec(rtp, rtcp, rtcpMux, latchMode, strictSource, asymmetric, transcode, mediaType, protocol, value, sends);
    }

    /**
     * Whether this party sends media on the stream (SDP sendrecv or sendonly); a party that said recvonly or
     * inactive is not expected to, and a call where no party is uses the silent timeout.
     */
    public StreamSpec withSends(final boolean value)
    {
        return new StreamSpec(rtp, rtcp, rtcpMux, latchMode, strictSource, asymmetric, transcode, mediaType, protocol,
            formats, value);
    }

    /** @param name a {@link PayloadTransformerProvider} name applied to media this party sends, e.g. "PCMU>PCMA". */
    public StreamSpec withTranscode(final String name)
    {
        return new StreamSpec(rtp, rtcp, rtcpMux, latchMode, strictSource, asymmetric, name, mediaType, protocol, formats, sends);
    }
}
