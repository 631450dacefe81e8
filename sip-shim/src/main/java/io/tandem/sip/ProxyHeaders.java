package io.tandem.sip;

import java.net.InetSocketAddress;
import java.util.Locale;

import javax.sip.ListeningPoint;
import javax.sip.address.Address;
import javax.sip.address.AddressFactory;
import javax.sip.address.SipURI;
import javax.sip.header.HeaderFactory;
import javax.sip.header.MaxForwardsHeader;
import javax.sip.header.ViaHeader;
import javax.sip.message.Request;

/** The headers this proxy puts on what it relays: Max-Forwards, its Via and its Record-Route, all on the VIP. */
final class ProxyHeaders
{
    private final SipContext ctx;
    private final HeaderFactory headers;
    private final AddressFactory addresses;

    ProxyHeaders(final SipContext ctx, final HeaderFactory headers, final AddressFactory addresses)
    {
        this.ctx = ctx;
        this.headers = headers;
        this.addresses = addresses;
    }

    /** Max-Forwards: 70 where missing, else one less. @return false when it was 0 already (483) */
    boolean decrementMaxForwards(final Request request) throws Exception
    {
        final MaxForwardsHeader maxForwards = (MaxForwardsHeader)request.getHeader(MaxForwardsHeader.NAME);
        if (maxForwards == null)
        {
            request.addHeader(headers.createMaxForwardsHeader(70));
            return true;
        }
        if (maxForwards.getMaxForwards() <= 0)
        {
            return false;
        }
        maxForwards.decrementMaxForwards();
        return true;
    }

    /** Our Via, for a request leaving by {@code transport}. */
    ViaHeader via(final String branch, final String transport) throws Exception
    {
        final InetSocketAddress at = ctx.recordRouteAddress();
        return headers.createViaHeader(at.getAddress().getHostAddress(), at.getPort(),
            transport.toUpperCase(Locale.ROOT), branch);
    }

    /**
     * Record-Route on the VIP. A request that changes transport here (came by UDP, leaves by TCP, or back) gets two,
     * each naming the transport of its side, the one facing the next hop on top: each side's requests in the dialog
     * reach this proxy by its own transport, and loose routing takes both off ({@link Routes#looseRoute}).
     */
    void recordRoute(final Request request, final String inbound, final String outbound) throws Exception
    {
        if (!inbound.equalsIgnoreCase(outbound))
        {
            request.addFirst(headers.createRecordRouteHeader(recordRouteAddress(inbound)));
        }
        request.addFirst(headers.createRecordRouteHeader(recordRouteAddress(outbound)));
    }

    private Address recordRouteAddress(final String transport) throws Exception
    {
        final InetSocketAddress at = ctx.recordRouteAddress();
        final SipURI uri = addresses.createSipURI(null, at.getAddress().getHostAddress());
        uri.setPort(at.getPort());
        if (!ListeningPoint.UDP.equalsIgnoreCase(transport))
        {
            uri.setTransportParam(transport.toLowerCase(Locale.ROOT));
        }
        uri.setLrParam();
        return addresses.createAddress(uri);
    }
}
