package io.tandem.media.control;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.IntPredicate;

import io.tandem.media.session.MediaInterface;

/**
 * Where an SDP may point media (issue 17, item 2). An offer or answer names the address a party receives on; Tandem
 * then sends media there. An attacker who controls signalling could name an address that turns Tandem against
 * itself or its host: one of Tandem's own media ports (two legs pointed at each other make a packet circulate for
 * ever), its ng, HTTP, WebSocket or state-journal port, another service on loopback, a privileged port (below 1024:
 * DNS, NTP, SNMP, syslog...) of any of this host's addresses, or a multicast group. Those are refused with a clear ng
 * error before any port is taken. A party on the same host (a co-located PBX, a test tool) keeps unprivileged ports. The unspecified address (c=0.0.0.0, the old way to put a call on hold)
 * is not refused: it means "send nothing" (sent to, 0.0.0.0 would reach the local host).
 */
final class MediaAddressPolicy
{
    /** An address and which of its ports are Tandem's now. */
    private record Guard(InetAddress address, IntPredicate ports, String what)
    {
        /** Whether this guard covers {@code a}: the same address, or any local address when bound to the wildcard. */
        boolean covers(final InetSocketAddress a, final Set<InetAddress> local)
        {
            final InetAddress host = a.getAddress();
            final boolean sameHost = address.isAnyLocalAddress() ? local.contains(host) || host.isLoopbackAddress() :
                address.equals(host) || (address.isLoopbackAddress() && host.isLoopbackAddress());
            return sameHost && ports.test(a.getPort());
        }
    }

    /** Ports below this are services' (RFC 6335's system ports); no media endpoint receives on one. */
    private static final int FIRST_UNPRIVILEGED_PORT = 1024;

    private final List<Guard> guards = new ArrayList<>();
    private final boolean loopbackAllowed;
    private final Set<InetAddress> localAddresses;

    /**
     * @param interfaces the media interfaces: the ports they have in use (a call's RTP or RTCP socket) are guarded
     *                   on their bind and advertised addresses, not their whole range: a party on the same host
     *                   may receive on a port of the range Tandem has not taken (an ephemeral port, say); loopback
     *                   is allowed when one of them is itself on loopback (the embedded default). Checked under
     *                   the registry's lock, as the allocators are.
     */
    MediaAddressPolicy(final List<MediaInterface> interfaces)
    {
        boolean loopback = false;
        for (final MediaInterface iface : interfaces)
        {
            loopback |= iface.bindAddress().isLoopbackAddress();
            final IntPredicate inUse = (port) -> iface.ports().isInUse(port & ~1); // an RTCP port is its pair's
            guards.add(new Guard(iface.bindAddress(), inUse, "Tandem's own media port"));
            final InetAddress advertised = literal(iface.advertisedAddress());
            if (advertised != null && !advertised.equals(iface.bindAddress()))
            {
                guards.add(new Guard(advertised, inUse, "Tandem's own media port"));
            }
        }
        loopbackAllowed = loopback;
        localAddresses = localAddresses();
    }

    /** Guard also the control ports (ng over UDP, TCP, WebSocket; HTTP): a reflected packet must not reach them. */
    synchronized void guardControl(final List<InetSocketAddress> endpoints)
    {
        for (final InetSocketAddress endpoint : endpoints)
        {
            final int port = endpoint.getPort();
            guards.add(new Guard(endpoint.getAddress(), (p) -> p == port, "Tandem's control port"));
        }
    }

    /**
     * @param what what the address is, for the error ("media address", "RTCP address")
     * @return where to send: the address, or null for none (none given, or the unspecified address: on hold)
     * @throws NgException naming the address and why it is refused
     */
    synchronized InetSocketAddress check(final InetSocketAddress address, final String what) throws NgException
    {
        if (address == null || address.getAddress() == null || address.getAddress().isAnyLocalAddress())
        {
            return null;
        }
        final InetAddress host = address.getAddress();
        if (host.isMulticastAddress())
        {
            throw refused(address, what, "a multicast address");
        }
        if (host.isLoopbackAddress() && !loopbackAllowed)
        {
            throw refused(address, what, "a loopback address, and Tandem's media interfaces are not on loopback");
        }
        if (address.getPort() < FIRST_UNPRIVILEGED_PORT && (host.isLoopbackAddress() || localAddresses.contains(host)))
        {
            throw refused(address, what, "a privileged port of this host (a local service's, not a party's)");
        }
        for (final Guard guard : guards)
        {
            if (guard.covers(address, localAddresses))
            {
                throw refused(address, what, guard.what());
            }
        }
        return address;
    }

    private static NgException refused(final InetSocketAddress address, final String what, final String why)
    {
        return new NgException("Invalid " + what + " " + address.getAddress().getHostAddress() + ":" + address.getPort() +
            ": " + why);
    }

    private static InetAddress literal(final String address)
    {
        try
        {
            return address == null ? null : InetAddress.ofLiteral(address);
        }
        catch (final IllegalArgumentException ex)
        {
            return null;
        }
    }

    /** The host's addresses, read once: a guard bound to the wildcard covers each of them. */
    private static Set<InetAddress> localAddresses()
    {
        final Set<InetAddress> local = new HashSet<>();
        try
        {
            for (final NetworkInterface nic : NetworkInterface.networkInterfaces().toList())
            {
                nic.inetAddresses().forEach(local::add);
            }
        }
        catch (final SocketException ex)
        {
            // no list: a wildcard guard then covers loopback only
        }
        return local;
    }
}
