package io.tandem.media.control;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

import io.tandem.media.relay.LatchMode;
import io.tandem.media.session.StreamSpec;
import io.tandem.ng.NgFlags;

/**
 * From an offer's or answer's SDP and flags to the stream specs the call registry takes: where each party
 * receives RTP and RTCP (the SDP's, or the address the request says to trust), its endpoint learning, strict
 * source and asymmetry.
 */
final class NgStreams
{
    private NgStreams()
    {
    }

    static List<StreamSpec> specs(final Sdp sdp, final NgFlags flags, final MediaAddressPolicy policy) throws NgException
    {
        final InetAddress override = overrideAddress(flags);
        final LatchMode latch = latchMode(flags);
        final boolean strict = true; // Tandem's default, against RTP Bleed: strict source once latched
        final boolean asymmetric = flags.asymmetric();
        final List<StreamSpec> specs = new ArrayList<>();
        for (final Sdp.Media m : sdp.media())
        {
            InetSocketAddress rtp = sdp.rtpAddress(m);
            InetSocketAddress rtcp = sdp.rtcpAddress(m);
            if (override != null && rtp != null)
            {
                rtp = new InetSocketAddress(override, rtp.getPort());
                rtcp = new InetSocketAddress(override, rtcp.getPort());
            }
            rtp = policy.check(rtp, "media address");
            rtcp = rtp == null ? null : policy.check(rtcp, "RTCP address");
            specs.add(StreamSpec.of(rtp)
                .withRtcp(rtcp, m.hasAttribute("rtcp-mux"))
                .withLatch(latch)
                .withStrictSource(strict)
                .withAsymmetric(asymmetric)
                .withMedia(m.type(), m.protocol())
                .withFormats(String.join(" ", m.formats()))
                .withSends(!sdp.direction(m).equals("inactive") && !sdp.direction(m).equals("recvonly")));
        }
        return specs;
    }

    /** "media address", or the SIP source (received-from) with the "SIP source address" flag. */
    static InetAddress overrideAddress(final NgFlags flags) throws NgException
    {
        final String mediaAddress = flags.mediaAddress();
        if (mediaAddress != null)
        {
            return literal(mediaAddress, "media address");
        }
        if (flags.sipSourceAddress())
        {
            final List<String> receivedFrom = flags.receivedFrom();
            if (receivedFrom.size() != 2)
            {
                throw new NgException("SIP source address needs received-from [family, address]");
            }
            return literal(receivedFrom.get(1), "received-from");
        }
        return null;
    }

    static InetAddress literal(final String address, final String what) throws NgException
    {
        try
        {
            return InetAddress.ofLiteral(address);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new NgException("Invalid " + what + " '" + address + "'");
        }
    }

    static LatchMode latchMode(final NgFlags flags) throws NgException
    {
        final String mode = flags.endpointLearning();
        if (mode == null)
        {
            return flags.portLatching() ? LatchMode.IMMEDIATE : null;
        }
        try
        {
            return LatchMode.parse(mode);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new NgException("Invalid endpoint-learning '" + mode + "'");
        }
    }
}
